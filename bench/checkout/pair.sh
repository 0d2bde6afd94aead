#!/usr/bin/env bash
# bench/checkout/pair.sh: two whole systems side by side, A and B, loaded at the same time at the same steady rate;
# compares their CPU per order. On this noisy 2-core host a change worth a few percent disappears between runs of
# run.sh (the same build ranges over ±20 % from one run to the next), but two systems that share every second of
# the host's good and bad moments see the same conditions: the ratio of their costs is what this script reports.
#   bench/checkout/pair.sh [rate=10] [duration=30] [rounds=4]
# A and B are the Release builds of two repository roots (e.g. a worktree of the commit before a change):
#   A_ROOT, B_ROOT   default: this repository (compare settings rather than builds)
#   A_ENV,  B_ENV    environment for that side's AppHost, inherited by every process it starts,
#                    e.g. B_ENV="DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1"
#   A_ARGS, B_ARGS   extra AppHost arguments, e.g. B_ARGS="--Parameters:gateway-response-cache=false"
#   PAIR_CLIENTS     measure each round closed-loop with this many clients on each side instead of at the steady rate:
#                    both sides saturated together, for what only shows under load (connection pools, batching);
#                    the rate argument then only sets the unmeasured window before the first round
# Each round runs the open-loop load generator of run.sh against both at once (each at the given rate, after its own
# 10 s warm-up), then prints, per side, the orders that reached a final status, the CPU ms per order of its resources
# (its AppHost and every process it started) and the order-to-confirmed p50/p99 (with PAIR_CLIENTS, its orders/s); and B/A of the CPU per order. Both sides
# start with SHOP_BENCH_WARMUP seconds (default 180, as run.sh) of closed-loop load, 16 clients each, then one unmeasured window
# at the given rate. The dashboard runs on both, as in ./run.sh (SHOP_BENCH_DASHBOARD=false: on neither). Both run
# on the one machine: keep the rate low enough that the two of them together keep up: 10/s each here, where one
# system alone sustains 50-80 orders/s.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$PWD
source bench/lib.sh
rate=${1:-10}
duration=${2:-30}
rounds=${3:-4}
a_root=$(realpath "${A_ROOT:-$here}")
b_root=$(realpath "${B_ROOT:-$here}")

for root in $(printf '%s\n' "$a_root" "$b_root" | sort -u); do
  echo "building $root (Release)" >&2
  (cd "$root" && dotnet build Shop.AppHost -c Release -nologo -clp:ErrorsOnly -v:quiet >&2)
done
dotnet build bench/checkout/CheckoutBench -c Release -nologo -clp:ErrorsOnly -v:quiet >&2
bench=$here/bench/checkout/CheckoutBench/bin/Release/net10.0/CheckoutBench.dll
scratch=$(mktemp -d /tmp/shop-bench-pair-XXXX)
chmod 755 "$scratch"
secret=$(openssl rand -hex 24)

declare -A pid url_gateway token products_of
stop_all() {
  local status=$? side
  for side in a b; do
    if [[ -n ${pid[$side]:-} ]]; then
      ((status == 0)) || { echo "--- AppHost $side, last lines:" >&2; tail -20 "$scratch/$side/apphost.log" >&2; }
      kill -TERM "${pid[$side]}" 2>/dev/null || true
    fi
  done
  for side in a b; do [[ -z ${pid[$side]:-} ]] || wait "${pid[$side]}" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap stop_all EXIT

# Starts one side's AppHost from its root, with its own data directory and random ports; pid[side] is the AppHost's.
start() { # $1 side, $2 root, $3 environment, $4 arguments
  mkdir -p "$scratch/$1"
  (cd "$2" && exec env $3 DOTNET_ENVIRONMENT=Development dotnet Shop.AppHost/bin/Release/net10.0/Shop.AppHost.dll \
    --AppHost:RandomizePorts=true --AppHost:DataDirectory="$scratch/$1/volumes" --AppHost:Terminal:ShowResourceOutput=false \
    --AppHost:DisableDashboard="$([[ ${SHOP_BENCH_DASHBOARD:-true} == false ]] && echo true || echo false)" \
    --Parameters:web-client-secret="$secret" --Parameters:identity-access-token-lifetime=01:00:00 \
    --Parameters:gateway-rate-limit=1000000000 --Parameters:gateway-rate-limit-anonymous=1000000000 $4 \
    >"$scratch/$1/apphost.log" 2>&1) &
  pid[$1]=$!
}

# Signs in and creates the products on one side; lib.sh's helpers read these globals.
prepare() { # $1 side
  apphost=${pid[$1]} log=$scratch/$1/apphost.log data=$scratch/$1
  wait_for_ready
  gateway=$(external_url gateway) web=$(external_url web)
  url_gateway[$1]=$gateway
  token[$1]=$(access_token customer@example.com 'Customer#2026' 'openid%20ordering%20payment')
  local admin; admin=$(access_token admin@example.com 'Admin#2026' 'openid%20roles%20products')
  [[ -n ${token[$1]} && -n $admin ]] || { echo "side $1: no access tokens" >&2; exit 1; }
  products_of[$1]=$(dotnet "$bench" setup --gateway "$gateway" --admin-token "$admin" --products 16)
}

start a "$a_root" "${A_ENV:-}" "${A_ARGS:-}"
start b "$b_root" "${B_ENV:-}" "${B_ARGS:-}"
prepare a
prepare b
echo "both ready; ${SHOP_BENCH_WARMUP:-180} s of unmeasured load on both" >&2

load() { # $1 side, then the load generator's command and options
  local side=$1; shift
  dotnet "$bench" "$@" --gateway "${url_gateway[$side]}" --token "${token[$side]}" --products "${products_of[$side]}"
}
load a throughput --concurrency 16 --warmup 0 --duration "${SHOP_BENCH_WARMUP:-180}" >/dev/null &
a_load=$!
load b throughput --concurrency 16 --warmup 0 --duration "${SHOP_BENCH_WARMUP:-180}" >/dev/null
wait $a_load

# One unmeasured window at the measured rate: the first measured round strayed most before it (B/A 0.90-0.95 where
# later rounds agreed within 1-2 %, both sides still settling after the closed-loop load).
load a latency --rate "$rate" --warmup 0 --duration "$duration" >/dev/null &
a_load=$!
load b latency --rate "$rate" --warmup 0 --duration "$duration" >/dev/null
wait $a_load

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
measure=(latency --rate "$rate")
[[ -z ${PAIR_CLIENTS:-} ]] || measure=(throughput --concurrency "$PAIR_CLIENTS")
ratios=()
for round in $(seq "$rounds"); do
  for side in a b; do bench/checkout/cpu.py "${pid[$side]}" >"$scratch/$side/before"; done
  load a "${measure[@]}" --warmup 10 --duration "$duration" >"$scratch/a/line" &
  a_load=$!
  load b "${measure[@]}" --warmup 10 --duration "$duration" >"$scratch/b/line"
  wait $a_load
  for side in a b; do bench/checkout/cpu.py "${pid[$side]}" >"$scratch/$side/after"; done
  declare -A cost=() summary=()
  for side in a b; do
    line=$(cat "$scratch/$side/line")
    orders=${line##*|}
    cost[$side]=$(bench/checkout/cpu.py --diff "$scratch/$side/before" "$scratch/$side/after" "$orders")
    total=$(grep '^total|' <<<"${cost[$side]}" | cut -d'|' -f2)
    if [[ -n ${PAIR_CLIENTS:-} ]]; then
      # throughput|clients|orders/s|placed|errors|cancelled|finished
      IFS='|' read -r _ _ per_second _ errors _ _ <<<"$line"
      summary[$side]="$total ms/order ($orders orders, $per_second orders/s, errors $errors)"
    else
      # latency|rate|offered|measured|p50|p90|p99|max|POST p50|POST p99|errors|cancelled|finished
      IFS='|' read -r _ _ _ _ p50 _ p99 _ _ _ errors _ _ <<<"$line"
      summary[$side]="$total ms/order ($orders orders, p50/p99 $p50/$p99 ms, errors $errors)"
    fi
  done
  ratio=$(awk -v a="$(grep '^total|' <<<"${cost[a]}" | cut -d'|' -f2)" -v b="$(grep '^total|' <<<"${cost[b]}" | cut -d'|' -f2)" 'BEGIN{printf "%.3f", b/a}')
  ratios+=("$ratio")
  echo "round $round: A ${summary[a]} · B ${summary[b]} · B/A $ratio"
  for side in a b; do echo "  ${side^^}: $(grep -v '^total|' <<<"${cost[$side]}" | tr '|\n' ': ')"; done
done

median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) · load average before $load_before · both $([[ -n ${PAIR_CLIENTS:-} ]] && echo "closed-loop with $PAIR_CLIENTS clients" || echo "at $rate orders/s"), ${duration} s windows, $rounds rounds"
echo "A: $a_root ${A_ENV:-} ${A_ARGS:-}"
echo "B: $b_root ${B_ENV:-} ${B_ARGS:-}"
echo "CPU per order, B/A: median $median (rounds: ${ratios[*]})"
for side in a b; do
  echo
  echo "Warnings and errors side ${side^^}'s services logged:"
  apphost=${pid[$side]} log=$scratch/$side/apphost.log
  service_warnings
done
