#!/usr/bin/env bash
# Starts the whole Shop system on this machine: installs what is missing, then runs the AppHost.
# Extra arguments go to the AppHost, e.g. ./run.sh --AppHost:Terminal:ShowResourceOutput=false
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh

shop_require_dotnet
shop_require "postgresql:/usr/lib/postgresql/*/bin/postgres" "redis-server:redis-server"

export DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Development}
shop_log "Building and starting Shop.AppHost (Ctrl+C stops everything)"
# Release: its build precompiles every program the AppHost starts (eng/ReadyToRun.props), so they JIT-compile less.
# The first build takes a few minutes longer for it; later ones only recompile what changed.
exec dotnet run --project Shop.AppHost -c Release --launch-profile http -- "$@"
