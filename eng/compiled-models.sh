#!/usr/bin/env bash
# Regenerates the EF Core compiled model of each service's DbContext (Infrastructure/CompiledModel). EF Core uses a
# compiled model instead of running OnModelCreating at start-up: building the model took 0.9-1.7 s of each service's
# start, 0.2-0.5 s with it; with the services' own assemblies precompiled, warm starts use about 25 MiB less memory
# (bench/startup RESULTS.md). Run it after every model change, beside `dotnet ef migrations add`; each service's
# tests fail while its compiled model or its migrations lag behind the model.
#   eng/compiled-models.sh [Service.Api ...]   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
source eng/prerequisites.sh
shop_require_dotnet

declare -A contexts=(
  [Identity.Api]="ApplicationDbContext identitydb"
  [Products.Api]="ProductsContext productsdb"
  [Ordering.Api]="OrderingContext orderingdb"
  [Payment.Api]="PaymentContext paymentdb"
)
services=("$@")
((${#services[@]})) || services=(Identity.Api Products.Api Ordering.Api Payment.Api)

dotnet tool restore >/dev/null
for service in "${services[@]}"; do
  [[ -n ${contexts[$service]:-} ]] || { shop_log "Unknown service '$service': one of ${!contexts[*]}"; exit 2; }
  read -r context database <<<"${contexts[$service]}"
  shop_log "Compiling the model of $context ($service)"
  # The design-time host only needs settings to exist: nothing connects while the model is compiled.
  rm -rf "Services/$service/Infrastructure/CompiledModel"
  env Identity__Url=http://localhost "ConnectionStrings__$database=Host=localhost;Database=$database" \
    ConnectionStrings__kafka=localhost:9092 ConnectionStrings__cache=localhost:6379 \
    dotnet ef dbcontext optimize --project "Services/$service" --context "$context" \
      --output-dir Infrastructure/CompiledModel --namespace "${service%.Api}.Api.Infrastructure.CompiledModel" >/dev/null
done
shop_log "Compiled models regenerated: ${services[*]}"
