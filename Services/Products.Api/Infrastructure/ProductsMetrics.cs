using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Products.Api.Infrastructure;

/// <summary>The service's own metrics (meter <c>Products.Api</c>): how often catalog reads hit the cache, and what inventory did.</summary>
public sealed class ProductsMetrics
{
    public const string MeterName = "Products.Api";

    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _cacheMisses;
    private readonly Counter<long> _reservations;

    public ProductsMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _cacheLookups = meter.CreateCounter<long>(
            "shop.products.catalog.cache.lookups", "{lookup}", "Catalog reads asked of the cache (HybridCache: memory, then Redis).");
        _cacheMisses = meter.CreateCounter<long>(
            "shop.products.catalog.cache.misses", "{miss}", "Catalog reads that neither cache level had, so the database answered.");
        _reservations = meter.CreateCounter<long>(
            "shop.products.inventory.reservations", "{order}", "Orders inventory acted on, by outcome: reserved, rejected, sold, released.");
    }

    public void CacheLookup(string entry) => _cacheLookups.Add(1, new TagList { { "shop.products.cache.entry", entry } });

    public void CacheMiss(string entry) => _cacheMisses.Add(1, new TagList { { "shop.products.cache.entry", entry } });

    public void Reservation(string outcome) => _reservations.Add(1, new TagList { { "shop.products.inventory.outcome", outcome } });
}
