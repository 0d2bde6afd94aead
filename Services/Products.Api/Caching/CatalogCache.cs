using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Products.Api.Infrastructure;

namespace Products.Api.Caching;

/// <summary>
/// HybridCache for catalog reads: memory first, then Redis shared by every replica, then the database. Entries carry
/// tags so that a change drops exactly what it affects: <see cref="CatalogTag"/> for anything that changes what a
/// listing contains or how it is ordered, <see cref="ProductTag"/> for one product's own data (a stock change).
/// </summary>
public sealed class CatalogCache(HybridCache cache, ProductsMetrics metrics)
{
    public const string CatalogTag = "catalog";

    // Long enough to absorb read traffic; invalidation, not expiry, is what keeps entries current.
    private static readonly HybridCacheEntryOptions EntryOptions = new()
    {
        Expiration = TimeSpan.FromMinutes(10),
        LocalCacheExpiration = TimeSpan.FromMinutes(1),
    };

    public static string ProductTag(int productId) => "product:" + productId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The tags of a listing page: the catalog, and each product on it.</summary>
    public static string[] PageTags(IEnumerable<int> productIds) => [CatalogTag, .. productIds.Select(ProductTag)];

    /// <summary>
    /// The cached value of <paramref name="key"/>, or what <paramref name="factory"/> makes of it. HybridCache runs one
    /// factory for all concurrent callers of a key, so the factory must not use the caller's request-scoped services.
    /// </summary>
    /// <param name="entry">What kind of entry this is, for the hit and miss metrics (page, item, brands…).</param>
    public ValueTask<T> GetOrCreateAsync<TState, T>(
        string key,
        string entry,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        IEnumerable<string> tags,
        CancellationToken cancellationToken)
    {
        metrics.CacheLookup(entry);
        return cache.GetOrCreateAsync(
            key,
            (state, factory, metrics, entry),
            static (s, ct) =>
            {
                s.metrics.CacheMiss(s.entry);
                return s.factory(s.state, ct);
            },
            EntryOptions,
            tags,
            cancellationToken);
    }
}
