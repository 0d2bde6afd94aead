#!/usr/bin/env bash
# Kafka broker benchmark: Confluent.Kafka producer/consumer throughput, produce-to-consume latency and
# broker RSS. Builds the broker and the bench client in Release, starts a fresh broker (flush policy as
# given, default: always = fsync before ack), runs every scenario RUNS times and prints the medians.
# Usage: bench/kafka/run.sh            (RUNS=5 FLUSH=always by default; raw output in bench/kafka/out/)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
RUNS="${RUNS:-5}"
FLUSH="${FLUSH:-always}"
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== build (Release)"
dotnet publish "$ROOT/Hosting/Shop.KafkaBroker/Shop.KafkaBroker.csproj" -c Release -o "$OUT/broker" -v quiet -nologo > "$OUT/build.log"
dotnet build "$HERE/Shop.KafkaBench/Shop.KafkaBench.csproj" -c Release -o "$OUT/bench" -v quiet -nologo >> "$OUT/build.log"

echo "== machine"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "dotnet: $(dotnet --version)"
  echo "flush policy: $FLUSH, runs per scenario: $RUNS"
} | tee "$OUT/machine.txt"

BROKER_PID=""
cleanup() {
  if [[ -n "$BROKER_PID" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

dotnet "$OUT/broker/Shop.KafkaBroker.dll" --port 0 --data-dir "$OUT/data" --flush "$FLUSH" > "$OUT/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 100); do
  grep -q '^Kafka broker listening on ' "$OUT/broker.log" && break
  sleep 0.1
done
BOOTSTRAP="$(grep -m1 '^Kafka broker listening on ' "$OUT/broker.log" | awk '{print $NF}')"
echo "broker pid $BROKER_PID at $BOOTSTRAP"

bench() {
  dotnet "$OUT/bench/Shop.KafkaBench.dll" --bootstrap "$BOOTSTRAP" --broker-pid "$BROKER_PID" "$@" | grep '^RESULT' | tee -a "$OUT/results.txt"
}

# median of FIELD over the RESULT lines matching PATTERN
median() {
  grep -- "$1" "$OUT/results.txt" | grep -o "$2=[0-9.]*" | cut -d= -f2 | sort -n | awk '{v[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

echo "== runs"
for run in $(seq 1 "$RUNS"); do
  echo "-- run $run"
  bench --scenario produce --size 100 --partitions 1 --count 1000000
  bench --scenario consume --size 100 --partitions 1 --count 1000000
  bench --scenario consume --size 100 --partitions 1 --count 1000000 --fetch-queue-backoff-ms 1000
  bench --scenario produce --size 100 --partitions 6 --count 1000000
  bench --scenario consume --size 100 --partitions 6 --count 1000000
  bench --scenario produce --size 1024 --partitions 1 --count 300000
  bench --scenario consume --size 1024 --partitions 1 --count 300000
  bench --scenario produce --size 1024 --partitions 6 --count 300000
  bench --scenario consume --size 1024 --partitions 6 --count 300000
  bench --scenario latency --size 100 --partitions 1 --seconds 10 --linger-ms 0 --topic latency-linger0
  bench --scenario latency --size 100 --partitions 1 --seconds 10 --linger-ms 5 --topic latency-linger5
done

echo "== log growth (RSS must not follow the log size)"
for step in 1 2 3 4; do
  line="$(dotnet "$OUT/bench/Shop.KafkaBench.dll" --bootstrap "$BOOTSTRAP" --broker-pid "$BROKER_PID" --scenario produce --size 100 --partitions 6 --count 2000000 --topic growth | grep '^RESULT')"
  echo "after $((step * 2))M messages in 'growth': log $(du -sh "$OUT/data" | cut -f1), $(echo "$line" | grep -o 'broker_rss_[a-z]*_mb=[0-9.]*' | tr '\n' ' ')" | tee -a "$OUT/growth.txt"
done

echo "== medians of $RUNS runs"
{
  printf '| scenario | size | partitions | median msg/s | median MB/s | broker RSS peak MB | broker RSS after MB |\n|---|---|---|---|---|---|---|\n'
  for scenario in produce consume; do
    for size in 100 1024; do
      for partitions in 1 6; do
        p="scenario=$scenario size=$size partitions=$partitions "
        if [[ "$scenario" == consume ]]; then
          p="$p.*fetch_queue_backoff_ms=10 "
        fi
        printf '| %s | %s B | %s | %s | %s | %s | %s |\n' "$scenario" "$size" "$partitions" \
          "$(median "$p" msg_per_s)" "$(median "$p" mb_per_s)" "$(median "$p" broker_rss_peak_mb)" "$(median "$p" broker_rss_after_mb)"
      done
    done
  done
  p="scenario=consume size=100 partitions=1 .*fetch_queue_backoff_ms=1000 "
  printf '\nconsume, 100 B, 1 partition, librdkafka default fetch.queue.backoff.ms=1000: median %s msg/s\n' "$(median "$p" msg_per_s)"
  printf '\n| latency at 1,000 msg/s, 100 B | median p50 ms | median p99 ms | worst max ms |\n|---|---|---|---|\n'
  for linger in 0 5; do
    p="linger_ms=$linger "
    worst="$(grep -- "$p" "$OUT/results.txt" | grep -o 'max_ms=[0-9.]*' | cut -d= -f2 | sort -n | tail -1)"
    printf '| linger.ms=%s | %s | %s | %s |\n' "$linger" "$(median "$p" p50_ms)" "$(median "$p" p99_ms)" "$worst"
  done
} | tee "$OUT/summary.md"
