using Products.Api.Caching;
using Products.Api.Infrastructure;
using Products.Api.Model;

namespace Products.Api.Catalog;

/// <summary>Catalog reads through <see cref="CatalogCache"/>.</summary>
public sealed class CatalogReader(CatalogCache cache, CatalogCacheInvalidator invalidator, IServiceScopeFactory scopes)
{
    private static readonly string[] CatalogTags = [CatalogCache.CatalogTag];

    /// <summary>
    /// A page of a listing, in two cached steps: which products are on it (tagged with the catalog, so only catalog
    /// changes drop it), then the page itself, tagged with each of its products as well, so an order reserving one
    /// of them refreshes the pages that show its stock and no other. When neither step is cached, the products read
    /// with the ids make the page, unless an invalidation reached this replica in between (then they are read again).
    /// </summary>
    public async ValueTask<PaginatedItems<ProductItem>> GetPageAsync(CatalogQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);

        var key = query.CacheKey();
        var firstRead = new FirstRead(invalidator.Epoch);
        var ids = await cache.GetOrCreateAsync(
            key + ":ids",
            "page-ids",
            (scopes, query, firstRead),
            static async (state, ct) =>
            {
                await using var scope = state.scopes.CreateAsyncScope();
                var (ids, items) = await CatalogQueries.PageAsync(scope.ServiceProvider.GetRequiredService<ProductsContext>(), state.query, ct);
                state.firstRead.Items = items;
                return ids;
            },
            CatalogTags,
            cancellationToken);

        return await cache.GetOrCreateAsync(
            key,
            "page",
            (scopes, query, ids, firstRead, invalidator),
            static async (state, ct) =>
            {
                var items = state.firstRead.Items is { } read && state.invalidator.Epoch == state.firstRead.Epoch
                    ? read
                    : state.ids.Ids.Count == 0
                        ? []
                        : await WithContextAsync(state.scopes, db => CatalogQueries.ItemsAsync(db, state.ids.Ids, ct));
                return new PaginatedItems<ProductItem>(state.query.PageIndex, state.query.PageSize, state.ids.Count, items);
            },
            ids.Tags,
            cancellationToken);
    }

    /// <summary>One product, or null if there is none (or it was deleted).</summary>
    public ValueTask<ProductItem?> GetItemAsync(int id, CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync(
            "products:item:" + id,
            "item",
            (scopes, id),
            static async (state, ct) =>
            {
                var items = await WithContextAsync(state.scopes, db => CatalogQueries.ItemsAsync(db, [state.id], ct));
                return items.Count == 0 ? null : items[0];
            },
            [CatalogCache.ProductTag(id)],
            cancellationToken);

    public ValueTask<IReadOnlyList<CatalogFacet>> GetBrandsAsync(CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync<IServiceScopeFactory, IReadOnlyList<CatalogFacet>>(
            "products:brands",
            "brands",
            scopes,
            static async (scopes, ct) => await WithContextAsync(scopes, db => CatalogQueries.BrandsAsync(db, ct)),
            CatalogTags,
            cancellationToken);

    public ValueTask<IReadOnlyList<CatalogFacet>> GetCategoriesAsync(CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync<IServiceScopeFactory, IReadOnlyList<CatalogFacet>>(
            "products:categories",
            "categories",
            scopes,
            static async (scopes, ct) => await WithContextAsync(scopes, db => CatalogQueries.CategoriesAsync(db, ct)),
            CatalogTags,
            cancellationToken);

    /// <summary>
    /// What a product's picture is drawn from: the product, or, once deleted, the product as it was (orders placed
    /// before still show its picture). The deleted one is read uncached, and only when the cached read finds nothing:
    /// only old orders' pages ask for it.
    /// </summary>
    public async ValueTask<ProductItem?> GetPictureSourceAsync(int id, CancellationToken cancellationToken) =>
        await GetItemAsync(id, cancellationToken)
        ?? await WithContextAsync(scopes, db => CatalogQueries.DeletedItemAsync(db, id, cancellationToken));

    private static async Task<T> WithContextAsync<T>(IServiceScopeFactory scopes, Func<ProductsContext, Task<T>> query)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<ProductsContext>());
    }

    /// <summary>What this call read from the database for the ids step, and the invalidation epoch before it read.</summary>
    private sealed class FirstRead(long epoch)
    {
        public long Epoch { get; } = epoch;

        public List<ProductItem>? Items { get; set; }
    }
}
