#!/usr/bin/env bash
# bench/catalog: requests/s of a catalog page (10 products, cheapest first) through the gateway, served from the cache
# and not, beside a bare minimal API returning the same JSON, all in one run of the Release AppHost with the same wrk
# settings. The gateway keeps its rate limiter on with limits raised so that nothing is refused. "Uncached" requests
# each ask for a page no request asked for before (unique-pages.lua), so every one is read from PostgreSQL and written
# to both cache levels. Prints a Markdown table; RESULTS.md keeps the results.
#   bench/catalog/run.sh [duration=10s] [connections=32] [rounds=3]
# SHOP_BENCH_DASHBOARD=true runs with the dashboard, so every process exports its telemetry (as ./run.sh does);
# by default it does not.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
# What the AppHost and the load need, installed when missing (as ./run.sh does).
source eng/prerequisites.sh
shop_require "postgresql:/usr/lib/postgresql/*/bin/postgres" "redis-server:redis-server" "wrk:wrk" "postgresql-client:psql"
duration=${1:-10s}
connections=${2:-32}
rounds=${3:-3}

dotnet build Shop.AppHost -c Release -nologo -clp:ErrorsOnly -v:quiet
dotnet build bench/catalog/BareCatalog -c Release -nologo -clp:ErrorsOnly -v:quiet
appHost=Shop.AppHost/bin/Release/net10.0/Shop.AppHost.dll
data=$(mktemp -d /tmp/shop-bench-catalog-XXXX)
chmod 755 "$data"
log=$data/apphost.log

DOTNET_ENVIRONMENT=Development dotnet "$appHost" --AppHost:RandomizePorts=true --AppHost:DataDirectory="$data/volumes" \
  --AppHost:Terminal:ShowResourceOutput=false --AppHost:DisableDashboard="$([[ ${SHOP_BENCH_DASHBOARD:-false} == true ]] && echo false || echo true)" \
  --Parameters:web-client-secret="$(openssl rand -hex 24)" \
  --Parameters:gateway-rate-limit=1000000000 --Parameters:gateway-rate-limit-anonymous=1000000000 \
  >"$log" 2>&1 &
apphost=$!
bare_pid=
trap 'status=$?; ((status == 0)) || tail -40 "$log" >&2; [[ -n $bare_pid ]] && kill $bare_pid 2>/dev/null; kill -TERM $apphost 2>/dev/null; wait $apphost 2>/dev/null || true; rm -rf "$data"' EXIT

wait_for_ready
sleep 1
gateway=$(external_url gateway)

# products has no external endpoint: its address and database are in its own environment, as the AppHost gave them.
products=$(resource_env products ASPNETCORE_URLS | cut -d';' -f1)
use_database_of products productsdb
db_transactions() { psql -XAtqc "SELECT pg_stat_force_next_flush(); SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()" | tail -1; }

catalog="/api/products/items?pageIndex=0&pageSize=10&sort=price"
curl -sf "$gateway$catalog" >"$data/page.json"

# The baseline: a bare minimal API returning the very JSON the service answered.
bare_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bare="http://localhost:$bare_port"
dotnet bench/catalog/BareCatalog/bin/Release/net10.0/BareCatalog.dll --urls "$bare" --Page "$data/page.json" >"$data/bare.log" 2>&1 &
bare_pid=$!
until curl -s -o /dev/null "$bare$catalog"; do kill -0 "$bare_pid" || { cat "$data/bare.log" >&2; exit 1; }; sleep 0.1; done
cmp -s <(curl -s "$bare$catalog") "$data/page.json" || { echo "the bare API does not return the service's JSON byte for byte" >&2; exit 1; }

load=$(cut -d" " -f1-3 /proc/loadavg)
pid_of_url() { ss -ltnp "sport = :${1##*:}" | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in 1/100 s
run() { # $1 label, $2 base url, [$3 wrk script args]; prints label|rps|p50|p99|CPU µs/request of the process called|DB transactions/request|errors
  local args=(-t1 -c"$connections" --latency) url=$2$catalog
  [[ -n ${3:-} ]] && args+=(-s bench/catalog/unique-pages.lua)
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$url") == 200 ]] || { echo "$1: $url failed" >&2; exit 1; }
  local pid; pid=$(pid_of_url "$2")
  wrk "${args[@]}" -d3s "$url" ${3:+-- "$3"0} >/dev/null # warm-up: JIT, connection pools, and (cached rows) the cache
  local before cpu_before; before=$(db_transactions); cpu_before=$(cpu_ticks "$pid")
  local out; out=$(wrk "${args[@]}" -d"$duration" "$url" ${3:+-- "$3"})
  local cpu_after after; cpu_after=$(cpu_ticks "$pid"); after=$(db_transactions)
  local requests; requests=$(awk '/requests in/{print $1}' <<<"$out")
  local errors; errors=$(awk '/Non-2xx|Socket errors/' <<<"$out" | tr '\n' ' ')
  printf '%s|%s|%s|%s|%.0f|%.2f|%s\n' "$1" "$(awk '/^Requests\/sec/{print $2}' <<<"$out")" \
    "$(awk '$1=="50%"{print $2}' <<<"$out")" "$(awk '$1=="99%"{print $2}' <<<"$out")" \
    "$(awk -v t=$((cpu_after - cpu_before)) -v n="$requests" 'BEGIN{print t * 10000 / n}')" \
    "$(awk -v t=$((after - before)) -v n="$requests" 'BEGIN{print t / n}')" "${errors:-none}"
}

labels=(
  "bare minimal API, same JSON (baseline)"
  "catalog page straight to products, cached"
  "catalog page through the gateway, cached"
  "catalog page straight to products, uncached"
  "catalog page through the gateway, uncached"
)
all=$(mktemp -p "$data")
for round in $(seq "$rounds"); do
  {
    run "${labels[0]}" "$bare"
    run "${labels[1]}" "$products"
    run "${labels[2]}" "$gateway"
    run "${labels[3]}" "$products" "$((round * 2))"
    run "${labels[4]}" "$gateway" "$((round * 2 + 1))"
  } | tee -a "$all" | sed "s/^/round $round: /" >&2
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { awk -F'|' -v l="$1" -v f="$2" '$1==l{print $f}' "$all"; }
millis() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}'; }
bare_rps=$(field "${labels[0]}" 2 | median)

echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; load average before: $load"
echo "wrk -t1 -c$connections -d$duration after a 3 s warm-up, $rounds rounds (medians); Release build; dashboard ${SHOP_BENCH_DASHBOARD:-false}; page of $(wc -c <"$data/page.json") bytes"
echo
echo "| request | requests/s | share of the bare API | p50 ms | p99 ms | CPU µs/request of the process called | DB transactions/request | errors |"
echo "|---|---|---|---|---|---|---|---|"
for label in "${labels[@]}"; do
  rps=$(field "$label" 2 | median)
  printf '| %s | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %s |\n' "$label" "$rps" "$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN{print a/b}')" \
    "$(field "$label" 3 | millis | median)" "$(field "$label" 4 | millis | median)" "$(field "$label" 5 | median)" \
    "$(field "$label" 6 | median)" "$(field "$label" 7 | sort -u | tr '\n' ' ')"
done
