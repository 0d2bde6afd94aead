using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Products.Api.Search;

namespace Products.Api.Model;

/// <summary>How a catalog page is ordered.</summary>
public enum CatalogSort
{
    Name,
    NameDesc,
    Price,
    PriceDesc,
    Newest,

    /// <summary>Best full-text match first; the default when searching.</summary>
    Relevance,
}

/// <summary>A catalog listing as read from the query string: search, filters, order and page.</summary>
/// <param name="Search">Words to look for in name, brand, category and description; each word also matches as a prefix.</param>
/// <param name="Sort">name (default), name_desc, price, price_desc, newest, or relevance (the default with <paramref name="Search"/>).</param>
/// <remarks>The query names are given explicitly so that they are camelCase in the OpenAPI document too.</remarks>
public sealed record CatalogQuery(
    [FromQuery(Name = "search")] string? Search = null,
    [FromQuery(Name = "brandId")] int? BrandId = null,
    [FromQuery(Name = "categoryId")] int? CategoryId = null,
    [FromQuery(Name = "minPrice")] decimal? MinPrice = null,
    [FromQuery(Name = "maxPrice")] decimal? MaxPrice = null,
    [FromQuery(Name = "sort")] string? Sort = null,
    [FromQuery(Name = "pageIndex")] int PageIndex = 0,
    [FromQuery(Name = "pageSize")] int PageSize = CatalogQuery.DefaultPageSize)
{
    public const int DefaultPageSize = 10;
    public const int MaxPageSize = 100;
    public const int MaxSearchLength = 100;

    private static readonly Dictionary<string, CatalogSort> SortNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = CatalogSort.Name,
        ["name_desc"] = CatalogSort.NameDesc,
        ["price"] = CatalogSort.Price,
        ["price_desc"] = CatalogSort.PriceDesc,
        ["newest"] = CatalogSort.Newest,
        ["relevance"] = CatalogSort.Relevance,
    };

    public static IReadOnlyCollection<string> SortValues => SortNames.Keys;

    /// <summary>The problems with this query, keyed by query parameter; empty when it is valid.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (PageIndex < 0)
        {
            errors["pageIndex"] = ["pageIndex must be 0 or greater."];
        }
        else if ((long)PageIndex * Math.Max(PageSize, 1) > int.MaxValue)
        {
            errors["pageIndex"] = ["pageIndex is past any possible page."];
        }

        if (PageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."];
        }

        if (Search is { Length: > MaxSearchLength })
        {
            errors["search"] = [$"search must be at most {MaxSearchLength} characters."];
        }
        else if (!string.IsNullOrWhiteSpace(Search) && SearchTerms.Parse(Search).Count == 0)
        {
            errors["search"] = ["search must contain a letter or a digit."];
        }

        if (BrandId is < 1)
        {
            errors["brandId"] = ["brandId must be a positive brand id."];
        }

        if (CategoryId is < 1)
        {
            errors["categoryId"] = ["categoryId must be a positive category id."];
        }

        if (MinPrice is < 0)
        {
            errors["minPrice"] = ["minPrice must be 0 or greater."];
        }

        if (MaxPrice is < 0)
        {
            errors["maxPrice"] = ["maxPrice must be 0 or greater."];
        }
        else if (MinPrice is { } min && MaxPrice is { } max && min > max)
        {
            errors["maxPrice"] = ["maxPrice must not be less than minPrice."];
        }

        if (Sort is not null && !SortNames.ContainsKey(Sort))
        {
            errors["sort"] = [$"sort must be one of: {string.Join(", ", SortNames.Keys)}."];
        }
        else if (Sort is not null && SortNames[Sort] == CatalogSort.Relevance && string.IsNullOrWhiteSpace(Search))
        {
            errors["sort"] = ["sort=relevance needs a search."];
        }

        return errors;
    }

    /// <summary>The order to apply; call on a valid query.</summary>
    public CatalogSort EffectiveSort =>
        Sort is not null ? SortNames[Sort] : HasSearch ? CatalogSort.Relevance : CatalogSort.Name;

    public bool HasSearch => !string.IsNullOrWhiteSpace(Search);

    /// <summary>
    /// The cache key of this listing: two queries that select the same page share it (search words normalized,
    /// defaults spelled out, prices without trailing zeros). Call on a valid query.
    /// </summary>
    public string CacheKey()
    {
        var key = new StringBuilder("products:page:");
        key.Append(string.Join(' ', HasSearch ? SearchTerms.Parse(Search!) : []));
        key.Append('|').Append(BrandId?.ToString(CultureInfo.InvariantCulture));
        key.Append('|').Append(CategoryId?.ToString(CultureInfo.InvariantCulture));
        key.Append('|').Append(MinPrice is { } min ? Normalize(min) : "");
        key.Append('|').Append(MaxPrice is { } max ? Normalize(max) : "");
        key.Append('|').Append(EffectiveSort.ToString());
        key.Append('|').Append(PageIndex.ToString(CultureInfo.InvariantCulture));
        key.Append('|').Append(PageSize.ToString(CultureInfo.InvariantCulture));
        return key.ToString();
    }

    private static string Normalize(decimal value) => (value / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);
}
