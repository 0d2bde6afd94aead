#!/usr/bin/env bash
# bench/gateway: requests/s and p50/p99 latency of catalog reads straight to products, through a bare YARP proxy and
# through the gateway (anonymous, then with a signed-in user's access token; the bare proxy forwards the token
# unchecked), and of an authenticated profile read, all in one run of
# the built AppHost with the same wrk settings. The gateway keeps token validation and rate limiting on; its limits
# are raised so that no request of the benchmark is refused. Its response cache is off by default: this benchmark is
# of the proxy, every request going on to products. SHOP_BENCH_GATEWAY_CACHE=true runs the gateway as shipped, with
# its cache of catalog reads (anonymous and signed-in), so the catalog rows then measure cached answers after token
# validation and rate limiting. Prints a Markdown table; RESULTS.md keeps them.
#   bench/gateway/run.sh [duration=10s] [connections=32] [rounds=3] [warmup=10s]
# An even number of rounds balances the order: odd rounds read the catalog rows in the table's order, even ones in reverse.
# Each measurement follows a warm-up of the same URL, so that JIT tiering, caches and connection pools have settled:
# the benchmark is of the steady state.
# SHOP_BENCH_DASHBOARD=false runs without the dashboard, so no process exports telemetry (as in production without a
# collector); by default the dashboard runs, as with ./run.sh, and every request is traced and exported.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
# What the AppHost and the load need, installed when missing (as ./run.sh does).
source eng/prerequisites.sh
shop_require "postgresql:/usr/lib/postgresql/*/bin/postgres" "redis-server:redis-server" "wrk:wrk"
duration=${1:-10s}
connections=${2:-32}
rounds=${3:-3}
warmup=${4:-10s}

dotnet build Shop.AppHost -c Release -nologo -clp:ErrorsOnly -v:quiet
dotnet build bench/gateway/BareProxy -c Release -nologo -clp:ErrorsOnly -v:quiet
appHost=Shop.AppHost/bin/Release/net10.0/Shop.AppHost.dll
data=$(mktemp -d /tmp/shop-bench-gateway-XXXX)
chmod 755 "$data"
log=$data/apphost.log
secret=$(openssl rand -hex 24)

DOTNET_ENVIRONMENT=Development dotnet "$appHost" --AppHost:RandomizePorts=true --AppHost:DataDirectory="$data/volumes" \
  --AppHost:Terminal:ShowResourceOutput=false --AppHost:DisableDashboard="$([[ ${SHOP_BENCH_DASHBOARD:-true} == false ]] && echo true || echo false)" \
  --Parameters:web-client-secret="$secret" \
  --Parameters:gateway-rate-limit=1000000000 --Parameters:gateway-rate-limit-anonymous=1000000000 \
  --Parameters:gateway-response-cache="${SHOP_BENCH_GATEWAY_CACHE:-false}" \
  >"$log" 2>&1 &
apphost=$!
bare_pid=
trap 'status=$?; ((status == 0)) || tail -40 "$log" >&2; [[ -n $bare_pid ]] && kill $bare_pid 2>/dev/null; kill -TERM $apphost 2>/dev/null; wait $apphost 2>/dev/null || true; rm -rf "$data"' EXIT

wait_for_ready
sleep 1
gateway=$(external_url gateway)
web=$(external_url web)

# products has no external endpoint: its address is in its own environment, as the AppHost gave it.
products=$(resource_env products ASPNETCORE_URLS | cut -d';' -f1)

# The baseline: a bare YARP proxy in front of the same products process.
bare_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bare="http://localhost:$bare_port"
dotnet bench/gateway/BareProxy/bin/Release/net10.0/BareProxy.dll --urls "$bare" --Destination "$products" >"$data/bare.log" 2>&1 &
bare_pid=$!
until curl -s -o /dev/null "$bare/"; do kill -0 "$bare_pid" || { cat "$data/bare.log" >&2; exit 1; }; sleep 0.1; done

# A signed-in user's access token, obtained as the storefront does (demo customer, Development seed).
sign_in() {
  token=$(access_token customer@example.com 'Customer#2026' 'openid%20profile%20products%20identity')
  [[ -n $token ]] || { echo "no access token from the token endpoint" >&2; exit 1; }
}
sign_in

load=$(cut -d" " -f1-3 /proc/loadavg)
catalog="/api/products/items?pageIndex=0&pageSize=10"
pid_of_url() { ss -ltnp "sport = :${1##*:}" | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in 1/100 s
run() { # $1 label, $2 base url, $3 path, [$4 header]; prints label|rps|p50|p99|CPU µs per request of the process at $2|errors
  local url=$2$3 args=(-t1 -c"$connections" --latency)
  [[ -n ${4:-} ]] && args+=(-H "$4")
  local status; status=$(curl -s -o /dev/null -w '%{http_code}' ${4:+-H "$4"} "$url")
  [[ $status == 200 ]] || { echo "$1: $url answered $status" >&2; exit 1; }
  local pid; pid=$(pid_of_url "$2")
  wrk "${args[@]}" -d"$warmup" "$url" >/dev/null
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(wrk "${args[@]}" -d"$duration" "$url")
  local after; after=$(cpu_ticks "$pid")
  local requests; requests=$(awk '/requests in/{print $1}' <<<"$out")
  local errors; errors=$(awk '/Non-2xx|Socket errors/' <<<"$out" | tr '\n' ' ')
  printf '%s|%s|%s|%s|%.0f|%s\n' "$1" "$(awk '/^Requests\/sec/{print $2}' <<<"$out")" \
    "$(awk '$1=="50%"{print $2}' <<<"$out")" "$(awk '$1=="99%"{print $2}' <<<"$out")" \
    "$(awk -v t=$((after - before)) -v n="$requests" 'BEGIN{print t * 10000 / n}')" "${errors:-none}"
}

labels=(
  "catalog page, straight to products (anonymous)"
  "catalog page through a bare YARP proxy (baseline)"
  "catalog page through a bare YARP proxy (signed-in user's token, forwarded)"
  "catalog page through the gateway (anonymous)"
  "catalog page through the gateway (signed-in user's token)"
  "own profile through the gateway (token checked by gateway and identity, one DB read)"
)
all=$(mktemp -p "$data")
catalog_read() { # $1: index into labels
  case $1 in
    0) run "${labels[0]}" "$products" "$catalog" ;;
    1) run "${labels[1]}" "$bare" "$catalog" ;;
    2) run "${labels[2]}" "$bare" "$catalog" "Authorization: Bearer $token" ;;
    3) run "${labels[3]}" "$gateway" "$catalog" ;;
    4) run "${labels[4]}" "$gateway" "$catalog" "Authorization: Bearer $token" ;;
  esac
}
for round in $(seq "$rounds"); do
  # Odd rounds read in the table's order, even rounds in reverse: the host's drift within a round, and whatever one
  # reading leaves behind for the next, then weigh on every row alike instead of always on the later ones.
  # A round takes about six times (warm-up + duration); a token that would expire within it is replaced first.
  (( $(token_seconds_left "$token") > 300 )) || sign_in
  order=(0 1 2 3 4)
  ((round % 2)) || order=(4 3 2 1 0)
  {
    for i in "${order[@]}"; do catalog_read "$i"; done
    run "${labels[5]}" "$gateway" "/api/identity/users/me" "Authorization: Bearer $token"
  } | tee -a "$all" | sed "s/^/round $round: /" >&2
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { awk -F'|' -v l="$1" -v f="$2" '$1==l{print $f}' "$all"; }
millis() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}'; }
direct=$(field "${labels[0]}" 2 | median)
# Against the bare proxy, each round's reading is paired with the bare proxy's in the same round (the direct read
# cancels out: (gateway/direct)/(bare/direct)), then the median taken: this host's speed drifts between rounds.
# $2: the bare proxy's row to pair with (default: the anonymous baseline).
paired_ratios() { paste -d' ' <(field "$1" 2) <(field "${2:-${labels[1]}}" 2) | awk '{print $1/$2}'; }
relative_to_bare() { paired_ratios "$@" | median; }

echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; load average before: $load"
echo "wrk -t1 -c$connections -d$duration after a $warmup warm-up, $rounds rounds (medians; the bare proxy's share: median of the rounds' paired ratios); Release build; dashboard ${SHOP_BENCH_DASHBOARD:-true}; gateway response cache ${SHOP_BENCH_GATEWAY_CACHE:-false}"
echo
echo "| read | requests/s | share of direct | share of the bare proxy's share | p50 ms | p99 ms | CPU µs/request of the process called | errors |"
echo "|---|---|---|---|---|---|---|---|"
for label in "${labels[@]}"; do
  rps=$(field "$label" 2 | median)
  share=$(awk -v a="$rps" -v b="$direct" 'BEGIN{print a/b}')
  relative=—
  [[ $label == "${labels[0]}" || $label == "${labels[1]}" || $label == "${labels[2]}" ]] ||
    relative=$(printf '%.2f' "$(relative_to_bare "$label")")
  printf '| %s | %.0f | %.2f | %s | %.2f | %.2f | %.0f | %s |\n' "$label" "$rps" "$share" "$relative" \
    "$(field "$label" 3 | millis | median)" "$(field "$label" 4 | millis | median)" "$(field "$label" 5 | median)" \
    "$(field "$label" 6 | sort -u | tr '\n' ' ')"
done
# The signed-in read carries a token of about a kilobyte, which the bare proxy forwards too (products does not check it
# on a catalog read; the gateway, since 2026-12-06, takes it off the public catalog route): paired with that same
# request, the gateway's own cost of the token shows apart from the bytes.
echo
printf 'Signed-in through the gateway against the same signed-in request through the bare proxy: %.2f of its share.\n' \
  "$(relative_to_bare "${labels[4]}" "${labels[2]}")"
paired() { paired_ratios "$1" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}'; }
echo "Paired per round (odd rounds in the table's order, even rounds reversed), anonymous: $(paired "${labels[3]}"); signed-in: $(paired "${labels[4]}")."
