using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Products.Api.Caching;
using Products.Api.Catalog;
using Products.Api.Infrastructure;
using Products.Api.Model;
using Products.Api.Pictures;

namespace Products.Api.Apis;

/// <summary>The catalog as anyone may read it.</summary>
public static class CatalogApi
{
    public const int MaxIdsPerRequest = 100;

    private static readonly string[] CatalogTags = [CatalogCache.CatalogTag];

    /// <summary>Browsers keep a picture this long, then revalidate it with its ETag.</summary>
    private const string PictureCacheControl = "public, max-age=3600";

    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/products").WithTags("Catalog");

        api.MapRead("/items", GetItems)
            .WithName("ListItems")
            .WithSummary("Search, filter, sort and page the catalog")
            .WithDescription(
                "A page of products and the size of the whole listing. search: words matched (also as prefixes) against " +
                "name, brand, category and description; brandId, categoryId, minPrice, maxPrice: filters; sort: " +
                "name (default), name_desc, price, price_desc, newest, relevance (default with search); pageIndex (from 0), " +
                "pageSize (1-100, default 10). Served from the cache; an invalid parameter gets a 400 problem naming it.");

        api.MapRead("/items/{id:int}", GetItem)
            .WithName("GetItem")
            .WithSummary("Get a product");

        api.MapRead("/items/by", GetItemsByIds)
            .WithName("BatchGetItems")
            .WithSummary("Get products by id, current")
            .WithDescription(
                "The products with the given ids (?ids=1&ids=2, at most 100), read from the database rather than the cache: " +
                "ordering prices orders with them. Ids that do not exist or were deleted are left out.");

        api.MapRead("/items/{id:int}/pic", GetItemPicture)
            .WithName("GetItemPicture")
            .WithSummary("Get a product's picture (SVG)")
            .WithDescription("Cacheable for an hour, with an ETag: a request with If-None-Match gets 304 when the picture has not changed.");

        api.MapRead("/brands", GetBrands)
            .WithName("ListBrands")
            .WithSummary("List the brands, for the brandId filter");

        api.MapRead("/categories", GetCategories)
            .WithName("ListCategories")
            .WithSummary("List the categories, for the categoryId filter");

        return app;
    }

    /// <summary>
    /// A read answers HEAD too (RFC 9110: wherever GET does), with the headers GET would send and no body: Kestrel
    /// leaves out the body of every answer to HEAD.
    /// </summary>
    private static RouteHandlerBuilder MapRead(this RouteGroupBuilder api, string pattern, Delegate handler) =>
        api.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Head], handler);

    public static async Task<Results<Ok<PaginatedItems<ProductItem>>, ValidationProblem>> GetItems(
        [AsParameters] CatalogQuery query,
        CatalogReader catalog,
        HttpContext context,
        CancellationToken cancellationToken)
    {
        var errors = query.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await catalog.GetPageAsync(query, cancellationToken);
        // The same tags as this replica's own cache entry: a stock change of a product drops the pages showing it.
        TagResponse(context, page, static page => CatalogCache.PageTags(page.Data.Select(item => item.Id)));
        return TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<ProductItem>, ProblemHttpResult>> GetItem(int id, CatalogReader catalog, HttpContext context, CancellationToken cancellationToken)
    {
        if (await catalog.GetItemAsync(id, cancellationToken) is not { } item)
        {
            return ProductNotFound(id);
        }

        TagResponse(context, id, static id => [CatalogCache.ProductTag(id)]);
        return TypedResults.Ok(item);
    }

    public static async Task<Results<Ok<List<ProductItem>>, ValidationProblem>> GetItemsByIds(
        [FromQuery] int[] ids,
        ProductsContext db,
        CancellationToken cancellationToken)
    {
        if (ids.Length == 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["ids"] = ["At least one product id is required, e.g. ?ids=1&ids=2."],
            });
        }

        if (ids.Length > MaxIdsPerRequest)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["ids"] = [$"At most {MaxIdsPerRequest} ids can be asked for at once."],
            });
        }

        var items = await db.Products.AsNoTracking()
            .Where(p => ids.Contains(p.Id) && !p.IsDeleted)
            .OrderBy(p => p.Id)
            .Select(CatalogQueries.ToItem)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(items);
    }

    public static async Task<Results<ContentHttpResult, StatusCodeHttpResult, ProblemHttpResult>> GetItemPicture(
        int id,
        CatalogReader catalog,
        HttpContext context,
        CancellationToken cancellationToken)
    {
        if (await catalog.GetPictureSourceAsync(id, cancellationToken) is not { } item)
        {
            return ProductNotFound(id);
        }

        var svg = ProductPicture.Render(item.Id, item.Name, item.Brand, item.Category);
        var etag = ProductPicture.ETag(svg);
        var headers = context.Response.Headers;
        headers.ETag = etag;
        headers.CacheControl = PictureCacheControl;
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Tag == etag || tag.Equals(EntityTagHeaderValue.Any)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Text(svg, ProductPicture.ContentType);
    }

    public static async Task<Ok<IReadOnlyList<CatalogFacet>>> GetBrands(CatalogReader catalog, HttpContext context, CancellationToken cancellationToken)
    {
        var brands = await catalog.GetBrandsAsync(cancellationToken);
        TagResponse(context, CatalogTags, static tags => tags);
        return TypedResults.Ok(brands);
    }

    public static async Task<Ok<IReadOnlyList<CatalogFacet>>> GetCategories(CatalogReader catalog, HttpContext context, CancellationToken cancellationToken)
    {
        var categories = await catalog.GetCategoriesAsync(cancellationToken);
        TagResponse(context, CatalogTags, static tags => tags);
        return TypedResults.Ok(categories);
    }

    /// <summary>
    /// Lets a shared cache in front of this service (the gateway's) keep the response until a change invalidates one
    /// of the <paramref name="tags"/> made from <paramref name="state"/>. Only responses read through
    /// <see cref="CatalogReader"/> are tagged: the cache invalidations cover exactly what it reads. <c>/items/by</c>, which ordering prices orders with, never is.
    /// </summary>
    /// <remarks>The tags are made only for a cache that asks for them: other callers would pay for a header they drop.</remarks>
    private static void TagResponse<TState>(HttpContext context, TState state, Func<TState, IEnumerable<string>> tags)
    {
        if (CacheInvalidations.WantsTags(context.Request.Headers[CacheInvalidations.CapabilityHeader]))
        {
            context.Response.Headers[CacheInvalidations.TagHeader] = CacheInvalidations.HeaderValue(tags(state));
        }
    }

    internal static ProblemHttpResult ProductNotFound(int id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Product not found", detail: $"There is no product {id}.");
}
