#!/usr/bin/env bash
# Runs every test of Shop: installs what is missing, builds once, then runs each test project in turn.
# Pass a project name fragment to run only matching projects, e.g. ./test.sh KafkaBroker
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh

shop_require_dotnet
shop_require "postgresql:/usr/lib/postgresql/*/bin/postgres" "redis-server:redis-server" "kcat:kcat" "chromium:chromium"

filter=${1:-}
results=TestResults
mkdir -p "$results"

shop_log "Building Shop.sln"
dotnet build Shop.sln -nologo -clp:ErrorsOnly -v:quiet

mapfile -t projects < <(find . -name '*.Tests.csproj' -not -path './bench/*' | sort)
failed=()
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  [[ -n $filter && $name != *"$filter"* ]] && continue
  shop_log "Testing $name"
  started=$SECONDS
  # A test that hangs is stopped after 15 minutes and named (the longest test takes under five), rather than
  # holding the run until CI's limit; grep passes each line on at once, so the log shows what is running.
  if dotnet test "$project" --no-build -nologo --logger "console;verbosity=normal" \
       --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
       --blame-hang-timeout 15m --blame-hang-dump-type none 2>&1 \
       | grep --line-buffered -vE '^\s+(Info|Warn|Debu|Trce) |^\s*$' | tee "$results/$name.log"; then
    shop_log "$name passed in $((SECONDS - started)) s"
  else
    shop_log "$name FAILED after $((SECONDS - started)) s"
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  # Repeated at the end, where a truncated CI log still shows it: each failed test with its message and stack.
  for name in "${failed[@]}"; do
    shop_log "Failures in $name:"
    awk '/^ +Failed [A-Za-z_.]+/ { show = 60 } /^ +Passed / { show = 0 } show-- > 0' "$results/$name.log" >&2 || true
  done
  shop_log "Failed: ${failed[*]} (details above; logs and trx files in $results/)"
  exit 1
fi
shop_log "All tests passed in $SECONDS s"
