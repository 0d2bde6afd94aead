#!/usr/bin/env bash
# bench/startup: time from launching the built AppHost to its "Ready:" line, and the memory of the whole
# process tree once ready. Cold runs start from an empty data directory (initdb, migrations, seed); warm
# runs reuse it, as a developer's second `./run.sh` does. Prints a Markdown table; RESULTS.md keeps them.
#   bench/startup/run.sh [runs=5]
# SHOP_BENCH_BREAKDOWN=true also prints, for each start, the CPU each resource had used at Ready and the part of it
# spent by the runtime's background tiering thread (".NET Tiered Com", which recompiles hot methods optimised).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}

dotnet build Shop.AppHost -c Release -nologo -clp:ErrorsOnly -v:quiet
appHost=Shop.AppHost/bin/Release/net10.0/Shop.AppHost.dll
data=$(mktemp -d /tmp/shop-bench-startup-XXXX)
chmod 755 "$data"
apphost_pid=""
# An AppHost left running by a failed or interrupted run would skew every later measurement on this machine.
trap '[[ -n $apphost_pid ]] && kill -TERM "$apphost_pid" 2>/dev/null && wait "$apphost_pid"; rm -rf "$data"' EXIT
trap 'exit 130' INT TERM

# Sum of a memory field over the AppHost and all its descendants, in MiB.
tree_pids() { ps -e -o pid=,ppid= | awk -v root="$1" '{parent[$1]=$2} END {n=1; q[1]=root; print root; while (n>0) {p=q[n--]; for (c in parent) if (parent[c]==p) {print c; q[++n]=c}}}'; }
tree_rss() { local total=0; for p in $(tree_pids "$1"); do kb=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0); total=$((total + ${kb:-0})); done; echo $((total / 1024)); }
# CPU seconds (user + system) the tree has used, counting children it has already reaped (initdb, psql).
tree_cpu() { local total=0; for p in $(tree_pids "$1"); do t=$(awk '{sub(/.*\) /, ""); print $12+$13+$14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0); total=$((total + ${t:-0})); done; awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz}'; }
# CPU seconds per resource (by OTEL_SERVICE_NAME, else the .dll it runs or the process name) and of its tiering threads, largest first.
cpu_breakdown() {
  local p name
  # (Processes come and go while this reads /proc, initdb's and psql's among them: a vanished one is skipped.)
  for p in $(tree_pids "$1"); do
    name=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^OTEL_SERVICE_NAME=//p') || continue
    [[ $p == "$1" ]] && name=apphost
    [[ -n $name ]] || name=$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | sed -n 's#.*/\([^/]*\)\.dll$#\1#p' | head -1) || continue
    [[ -n $name ]] || name=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    for t in /proc/"$p"/task/*; do
      awk -v n="$name" -v tiering="$(grep -c 'Tiered Com' "$t/comm" 2>/dev/null)" '{sub(/.*\) /, ""); print n, $12+$13, tiering}' "$t/stat" 2>/dev/null || true
    done
  done | awk -v hz="$(getconf CLK_TCK)" '{all[$1]+=$2; if ($3>0) tier[$1]+=$2} END {for (n in all) printf "  %-16s %5.1f s CPU, %4.1f s of it tiering\n", n, all[n]/hz, tier[n]/hz}' | sort -k2 -n -r
}
tree_pss() { local total=0; for p in $(tree_pids "$1"); do kb=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0); total=$((total + ${kb:-0})); done; echo $((total / 1024)); }

measure() { # $1 = label; prints "label seconds rss pss processes"
  local log; log=$(mktemp)
  local start=$EPOCHREALTIME
  DOTNET_ENVIRONMENT=Development dotnet "$appHost" --AppHost:RandomizePorts=true --AppHost:DataDirectory="$data" \
    --AppHost:Terminal:ShowResourceOutput=false >"$log" 2>&1 &
  local pid=$!
  apphost_pid=$pid
  # Follow the log line by line with bash's own read, instead of a loop that ran grep and sleep every 20 ms: 150
  # processes a second forked on the two cores being timed. tail exits with the AppHost (--pid).
  local line ready="" lines
  exec {lines}< <(tail -n +1 -F --pid="$pid" "$log" 2>/dev/null)
  local follower=$!
  while IFS= read -r -u "$lines" line; do
    case $line in
      *"Ready:"*) ready=$EPOCHREALTIME; break ;;
      *"Started with problems"*) break ;;
    esac
  done
  kill "$follower" 2>/dev/null || true
  exec {lines}<&-
  if [[ -z $ready ]]; then cat "$log" >&2; exit 1; fi
  local cpu; cpu=$(tree_cpu "$pid")
  [[ ${SHOP_BENCH_BREAKDOWN:-false} == true ]] && { echo "$1 start, CPU at Ready by resource:"; cpu_breakdown "$pid"; } >&2
  sleep 2 # let start-up work (JIT, first health probes) settle before reading memory
  local count; count=$(tree_pids "$pid" | wc -l)
  echo "$1 $(awk -v a="$start" -v b="$ready" 'BEGIN{printf "%.2f", b-a}') $(tree_rss "$pid") $(tree_pss "$pid") $count $cpu"
  kill -TERM "$pid"; wait "$pid" || true # (SIGINT is ignored by background jobs of scripts)
  apphost_pid=""
  rm -f "$log"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$(mktemp)
for i in $(seq "$runs"); do
  rm -rf "${data:?}"/*; rm -rf "$data"/.run
  # (Not through a pipe: measure must run in this shell, so that the exit trap knows the AppHost it started.)
  for kind in cold warm; do measure "$kind" >>"$results"; tail -n 1 "$results" >&2; done
done

echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB; runs: $runs; load average before: $load_before"
echo
echo "| start | Ready after (median s) | CPU used by then (median s) | RSS summed (median MiB) | PSS summed (median MiB) | processes |"
echo "|---|---|---|---|---|---|"
for kind in cold warm; do
  secs=$(awk -v k=$kind '$1==k{print $2}' "$results" | median)
  rss=$(awk -v k=$kind '$1==k{print $3}' "$results" | median)
  pss=$(awk -v k=$kind '$1==k{print $4}' "$results" | median)
  procs=$(awk -v k=$kind '$1==k{print $5}' "$results" | median)
  cpu=$(awk -v k=$kind '$1==k{print $6}' "$results" | median)
  printf '| %s | %.1f | %.1f | %s | %s | %s |\n' "$kind" "$secs" "$cpu" "$rss" "$pss" "$procs"
done
rm -f "$results"
