#!/usr/bin/env bash
# Dashboard benchmark: OTLP/gRPC span ingestion with the traces page open (Playwright + Debian's Chromium), and the
# time to render the trace list with 10,000 traces stored. Appends a dated entry to RESULTS.md.
# Usage: bench/dashboard/run.sh [seconds=10] [concurrency=4]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/out"
seconds="${1:-10}"
concurrency="${2:-4}"

command -v chromium >/dev/null || { echo "chromium is required (apt-get install chromium)" >&2; exit 1; }

dotnet publish "$root/Hosting/Shop.Dashboard/Shop.Dashboard.csproj" -c Release -o "$out/dashboard" --nologo -v quiet
dotnet build "$here/DashboardBench/DashboardBench.csproj" -c Release -o "$out/bench" --nologo -v quiet

report="$out/report.md"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_REPORT="$report" dotnet "$out/bench/DashboardBench.dll" "$out/dashboard" "$seconds" "$concurrency" "$(command -v chromium)"

{
  echo
  echo "## $(date -u +%Y-%m-%d) — $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, .NET $(dotnet --version)"
  echo
  echo "Commit $(git -C "$root" rev-parse --short HEAD); \`bench/dashboard/run.sh $seconds $concurrency\`; benchmark client, dashboard and Chromium share the machine; load average before the run: $load_before."
  echo
  cat "$report"
} >> "$here/RESULTS.md"
echo "Appended to $here/RESULTS.md"
