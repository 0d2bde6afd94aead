using System.ComponentModel;
using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using NpgsqlTypes;
using Products.Api.Caching;
using Products.Api.Infrastructure;
using Products.Api.Model;
using Products.Api.Search;

namespace Products.Api.Catalog;

/// <summary>The ids on one catalog page, in order, and how many products the whole listing has.</summary>
[ImmutableObject(true)]
public sealed record CatalogPageIds(long Count, IReadOnlyList<int> Ids)
{
    private string[]? _tags;

    /// <summary>The cache tags of the page built from these ids: the catalog, and each product on it.</summary>
    [JsonIgnore]
    public string[] Tags => _tags ??= CatalogCache.PageTags(Ids);
}

/// <summary>The catalog's database queries (never cached here: <see cref="CatalogReader"/> caches them).</summary>
public static class CatalogQueries
{
    /// <summary>
    /// A search is matched as the English configuration reads it (stemmed: "jackets" finds "jacket"), or as typed,
    /// lower-cased, under this one. English drops stop words ("a", "for", "the") from a query: right for a word the
    /// shopper has finished ("shoes for the trail"), wrong for the last one, which may be the start of a longer word.
    /// Dropped there, it made the results widen as the shopper typed: "camp fo" found the fork, "camp for" everything
    /// camping, "camp fork" the fork again. So the last word must also match on its own, as English reads it or, a stop
    /// word, as typed: as a prefix it matches the document's words ("for:*" finds "fork", "a:*" alone finds "anorak").
    /// The document holds its words as written too (<see cref="ProductsContext.UnstemmedConfiguration"/>), so the
    /// as-typed reading of the whole search finds a word at every letter typed of it, where English's stem of the
    /// unfinished word may be no prefix of the finished word's ("hiki" is no prefix of "hike", "hiking"'s stem); it
    /// also lifts the products with words starting with the words as typed in the rank ("for shoes" ranks the formal
    /// ones first).
    /// </summary>
    private const string LiteralConfiguration = "simple";

    public static readonly Expression<Func<Product, ProductItem>> ToItem = p => new ProductItem(
        p.Id,
        p.Name,
        p.Description,
        p.Price,
        p.Brand.Name,
        p.Category.Name,
        ProductItem.PictureFileNameOf(p.Id),
        p.AvailableStock,
        p.BrandId,
        p.CategoryId,
        ProductItem.PictureUrlOf(p.Id));

    /// <summary>
    /// The products a listing shows on the requested page, in order, and the listing's size: two queries (count, then
    /// the page). <paramref name="query"/> must be valid.
    /// </summary>
    public static async Task<(CatalogPageIds Ids, List<ProductItem> Items)> PageAsync(ProductsContext db, CatalogQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(query);

        var products = db.Products.AsNoTracking().Where(p => !p.IsDeleted);
        var search = query.HasSearch ? SearchQuery(query.Search!) : null;
        if (search is not null)
        {
            products = products.Where(Splice(search, (p, q) => p.SearchVector.Matches(q)));
        }

        if (query.BrandId is { } brandId)
        {
            products = products.Where(p => p.BrandId == brandId);
        }

        if (query.CategoryId is { } categoryId)
        {
            products = products.Where(p => p.CategoryId == categoryId);
        }

        if (query.MinPrice is { } minPrice)
        {
            products = products.Where(p => p.Price >= minPrice);
        }

        if (query.MaxPrice is { } maxPrice)
        {
            products = products.Where(p => p.Price <= maxPrice);
        }

        var count = await products.LongCountAsync(cancellationToken);
        if (count <= (long)query.PageIndex * query.PageSize)
        {
            return (new CatalogPageIds(count, []), []);
        }

        // Every order ends with the id, so pages never overlap or skip a product when values tie.
        var ordered = query.EffectiveSort switch
        {
            CatalogSort.NameDesc => products.OrderByDescending(p => p.Name).ThenByDescending(p => p.Id),
            CatalogSort.Price => products.OrderBy(p => p.Price).ThenBy(p => p.Id),
            CatalogSort.PriceDesc => products.OrderByDescending(p => p.Price).ThenByDescending(p => p.Id),
            CatalogSort.Newest => products.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id),
            CatalogSort.Relevance => products
                .OrderByDescending(Splice(search!, (p, q) => p.SearchVector.Rank(q)))
                .ThenBy(p => p.Id),
            _ => products.OrderBy(p => p.Name).ThenBy(p => p.Id),
        };

        var items = await ordered
            .Skip(query.PageIndex * query.PageSize)
            .Take(query.PageSize)
            .Select(ToItem)
            .ToListAsync(cancellationToken);
        return (new CatalogPageIds(count, [.. items.Select(i => i.Id)]), items);
    }

    /// <summary>The products with these ids, in the order of <paramref name="ids"/>; deleted ones are left out.</summary>
    public static async Task<List<ProductItem>> ItemsAsync(ProductsContext db, IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(ids);

        var items = await db.Products.AsNoTracking()
            .Where(p => ids.Contains(p.Id) && !p.IsDeleted)
            .Select(ToItem)
            .ToDictionaryAsync(p => p.Id, cancellationToken);
        return [.. ids.Where(items.ContainsKey).Select(id => items[id])];
    }

    /// <summary>A product that was deleted, as it was; null when there is no such deleted product.</summary>
    public static Task<ProductItem?> DeletedItemAsync(ProductsContext db, int id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Products.AsNoTracking().Where(p => p.Id == id && p.IsDeleted).Select(ToItem).SingleOrDefaultAsync(cancellationToken);
    }

    public static Task<List<CatalogFacet>> BrandsAsync(ProductsContext db, CancellationToken cancellationToken) =>
        db.Brands.AsNoTracking().OrderBy(b => b.Name).Select(b => new CatalogFacet(b.Id, b.Name)).ToListAsync(cancellationToken);

    public static Task<List<CatalogFacet>> CategoriesAsync(ProductsContext db, CancellationToken cancellationToken) =>
        db.Categories.AsNoTracking().OrderBy(c => c.Name).Select(c => new CatalogFacet(c.Id, c.Name)).ToListAsync(cancellationToken);

    /// <summary>
    /// The tsquery of a search (see <see cref="LiteralConfiguration"/>): <c>(english(all) &amp;&amp; (english(last) ||
    /// literal(last))) || literal(all)</c>. An empty operand (stop words alone, in English) drops out of <c>&amp;&amp;</c> and
    /// <c>||</c>. When the last word is not a stop word this matches and ranks exactly as <c>english(all) || literal(all)</c>.
    /// </summary>
    private static Expression<Func<NpgsqlTsQuery>> SearchQuery(string search)
    {
        var tsQuery = SearchTerms.ToPrefixQuery(search);
        var lastWord = SearchTerms.ToLastWordPrefixQuery(search);
        return () => EF.Functions.ToTsQuery(ProductsContext.SearchConfiguration, tsQuery)
            .And(EF.Functions.ToTsQuery(ProductsContext.SearchConfiguration, lastWord).Or(EF.Functions.ToTsQuery(LiteralConfiguration, lastWord)))
            .Or(EF.Functions.ToTsQuery(LiteralConfiguration, tsQuery));
    }

    /// <summary>
    /// <paramref name="use"/> with <paramref name="search"/> in place of its tsquery parameter, so that the filter and the
    /// relevance ranking share one definition of the query (and one SQL parameter). Spliced into the tree rather than
    /// called from the lambda: EF Core would run such a call on the client, where <c>to_tsquery</c> does not exist.
    /// </summary>
    private static Expression<Func<Product, T>> Splice<T>(Expression<Func<NpgsqlTsQuery>> search, Expression<Func<Product, NpgsqlTsQuery, T>> use) =>
        Expression.Lambda<Func<Product, T>>(new ParameterReplacer(use.Parameters[1], search.Body).Visit(use.Body), use.Parameters[0]);

    private sealed class ParameterReplacer(ParameterExpression parameter, Expression replacement) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == parameter ? replacement : node;
    }
}
