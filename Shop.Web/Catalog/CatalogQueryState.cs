using System.Globalization;
using System.Text;

namespace Shop.Web.Catalog;

/// <summary>How the catalog page orders products: the products API's <c>sort</c> values and how the page names them.</summary>
public sealed record CatalogSortOption(string Value, string Label, bool NeedsSearch = false)
{
    public static readonly CatalogSortOption Name = new("name", "Name (A–Z)");
    public static readonly CatalogSortOption NameDescending = new("name_desc", "Name (Z–A)");
    public static readonly CatalogSortOption Price = new("price", "Price (low to high)");
    public static readonly CatalogSortOption PriceDescending = new("price_desc", "Price (high to low)");
    public static readonly CatalogSortOption Newest = new("newest", "Newest");
    public static readonly CatalogSortOption Relevance = new("relevance", "Best match", NeedsSearch: true);

    public static IReadOnlyList<CatalogSortOption> All { get; } = [Relevance, Name, NameDescending, Price, PriceDescending, Newest];

    public static CatalogSortOption? Find(string? value) =>
        All.FirstOrDefault(o => string.Equals(o.Value, value, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// What the catalog page shows — search, filters, order and page — as it lives in the address bar, so a link or the
/// Back button brings back the same listing. Parsing forgives: a hand-edited or stale value is dropped (or, for a
/// swapped price range, put right) rather than turned into an error page. <see cref="ToUri"/> writes the canonical
/// form: fixed parameter order, defaults left out.
/// </summary>
public sealed record CatalogQueryState
{
    public const int PageSize = 12;

    /// <summary>The products API refuses longer searches.</summary>
    public const int MaxSearchLength = 100;

    /// <summary>Far past any real catalog, and small enough that the API's offset never overflows.</summary>
    public const int MaxPage = 10_000;

    /// <summary>Prices beyond this are typing mistakes, not filters.</summary>
    public const decimal PriceCeiling = 1_000_000m;

    public static readonly CatalogQueryState Default = new();

    public string? Search { get; init; }

    public int? BrandId { get; init; }

    public int? CategoryId { get; init; }

    public decimal? MinPrice { get; init; }

    public decimal? MaxPrice { get; init; }

    /// <summary>The chosen order; null is the API's default (best match when searching, else by name).</summary>
    public CatalogSortOption? Sort { get; init; }

    /// <summary>One-based, as people count pages.</summary>
    public int Page { get; init; } = 1;

    public bool HasFilters => Search is not null || BrandId is not null || CategoryId is not null || MinPrice is not null || MaxPrice is not null;

    /// <summary>The order the listing is in, as the sort control shows it.</summary>
    public CatalogSortOption EffectiveSort => Sort ?? (Search is not null ? CatalogSortOption.Relevance : CatalogSortOption.Name);

    /// <summary>Reads the query parameters of the catalog page (<c>q, brand, category, min, max, sort, page</c>).</summary>
    public static CatalogQueryState Parse(string? search, string? brand, string? category, string? min, string? max, string? sort, string? page)
    {
        var text = search?.Trim();
        if (text is { Length: > MaxSearchLength })
        {
            text = text[..MaxSearchLength].TrimEnd();
        }

        // The API needs a letter or a digit to search for; punctuation alone would be refused.
        if (string.IsNullOrEmpty(text) || !text.Any(char.IsLetterOrDigit))
        {
            text = null;
        }

        var (low, high) = (ParsePrice(min), ParsePrice(max));
        if (low is { } l && high is { } h && l > h)
        {
            (low, high) = (high, low);
        }

        var sortOption = CatalogSortOption.Find(sort);
        if (sortOption is { NeedsSearch: true } && text is null)
        {
            sortOption = null;
        }

        return new CatalogQueryState
        {
            Search = text,
            BrandId = ParseId(brand),
            CategoryId = ParseId(category),
            MinPrice = low,
            MaxPrice = high,
            Sort = sortOption,
            Page = ParsePage(page),
        };
    }

    /// <summary>
    /// A page number as an address gives it: digits, however many (leading zeros dropped), clamped to 1 through
    /// <see cref="MaxPage"/>, so a number past int's range is a page past the last like any other, not the first. No
    /// page, or anything but digits, is the first page.
    /// </summary>
    public static int ParsePage(string? page) => PageAsWritten(page) switch
    {
        null or "" => 1,
        { Length: > 9 } => MaxPage,
        var digits => Math.Clamp(int.Parse(digits, CultureInfo.InvariantCulture), 1, MaxPage),
    };

    /// <summary>The page an address asks for, in its digits without leading zeros (for messages); null when it is no number.</summary>
    public static string? PageAsWritten(string? page) =>
        page is { Length: > 0 } && page.All(char.IsAsciiDigit) ? page.TrimStart('0') : null;

    /// <summary>The same listing on another page.</summary>
    public CatalogQueryState WithPage(int page) => this with { Page = Math.Clamp(page, 1, MaxPage) };

    /// <summary>The same products in another order, from the first page.</summary>
    public CatalogQueryState WithSort(CatalogSortOption? sort) =>
        this with { Sort = sort is { NeedsSearch: true } && Search is null ? null : sort, Page = 1 };

    /// <summary>The catalog page's address for this listing.</summary>
    public string ToUri()
    {
        var query = new StringBuilder();
        Append(query, "q", Search);
        Append(query, "brand", Format(BrandId));
        Append(query, "category", Format(CategoryId));
        Append(query, "min", Format(MinPrice));
        Append(query, "max", Format(MaxPrice));
        Append(query, "sort", Sort?.Value);
        Append(query, "page", Page > 1 ? Format(Page) : null);
        return query.Length == 0 ? "/" : "/?" + query;
    }

    /// <summary>The products API's query for this listing (<c>GET /api/products/items?…</c>).</summary>
    public string ToApiQuery()
    {
        var query = new StringBuilder();
        Append(query, "search", Search);
        Append(query, "brandId", Format(BrandId));
        Append(query, "categoryId", Format(CategoryId));
        Append(query, "minPrice", Format(MinPrice));
        Append(query, "maxPrice", Format(MaxPrice));
        Append(query, "sort", Sort?.Value);
        Append(query, "pageIndex", Format(Page - 1));
        Append(query, "pageSize", Format(PageSize));
        return query.ToString();
    }

    private static int? ParseId(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    private static decimal? ParsePrice(string? value) =>
        decimal.TryParse(value?.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) && price <= PriceCeiling
            ? price
            : null;

    private static string? Format(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    // Without trailing zeros: 10.50 and 10.5 are one listing and one address.
    private static string? Format(decimal? value) =>
        value is { } price ? (price / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture) : null;

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (query.Length > 0)
        {
            query.Append('&');
        }

        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }
}
