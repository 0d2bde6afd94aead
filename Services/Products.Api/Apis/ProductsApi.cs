using System.Linq.Expressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;
using Products.Api.Infrastructure;
using Products.Api.Model;

namespace Products.Api.Apis;

public static class ProductsApi
{
    public const int MaxIdsPerRequest = 100;

    /// <summary>Tag on every cached catalog read, so a catalog change can drop them all at once.</summary>
    public const string CatalogCacheTag = "catalog";

    private static readonly HybridCacheEntryOptions ItemsPageCacheOptions = new()
    {
        Expiration = TimeSpan.FromMinutes(5),
        LocalCacheExpiration = TimeSpan.FromMinutes(1),
    };

    private static readonly Expression<Func<Product, ProductItem>> ToItem = p =>
        new ProductItem(p.Id, p.Name, p.Description, p.Price, p.Brand, p.Category, p.PictureFileName, p.AvailableStock);

    public static IEndpointRouteBuilder MapProductsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/products").WithTags("Products");

        api.MapGet("/items", GetItems)
            .WithName("ListItems")
            .WithSummary("List products")
            .WithDescription("A page of the catalog, ordered by name.");

        api.MapGet("/items/by", GetItemsByIds)
            .WithName("BatchGetItems")
            .WithSummary("Get products by id")
            .WithDescription("The products with the given ids; ids that do not exist are left out.");

        return app;
    }

    public static async Task<Results<Ok<PaginatedItems<ProductItem>>, ValidationProblem>> GetItems(
        [AsParameters] PaginationRequest pagination,
        IServiceScopeFactory scopes,
        HybridCache cache,
        CancellationToken cancellationToken)
    {
        var errors = pagination.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await cache.GetOrCreateAsync(
            $"products:items:{pagination.PageIndex}:{pagination.PageSize}",
            (scopes, pagination),
            // HybridCache runs one factory for all concurrent callers of a key, so it must not borrow the
            // first caller's request-scoped context: that request may be cancelled while others still wait.
            static async (state, ct) =>
            {
                var (scopes, pagination) = state;
                await using var scope = scopes.CreateAsyncScope();
                var context = scope.ServiceProvider.GetRequiredService<ProductsContext>();
                var count = await context.Products.LongCountAsync(ct);
                var items = await context.Products
                    .OrderBy(p => p.Name)
                    .ThenBy(p => p.Id)
                    .Skip(pagination.PageIndex * pagination.PageSize)
                    .Take(pagination.PageSize)
                    .Select(ToItem)
                    .ToListAsync(ct);
                return new PaginatedItems<ProductItem>(pagination.PageIndex, pagination.PageSize, count, items);
            },
            ItemsPageCacheOptions,
            [CatalogCacheTag],
            cancellationToken);

        return TypedResults.Ok(page);
    }

    /// <summary>Current prices and stock, read from the database: callers price orders with them.</summary>
    public static async Task<Results<Ok<List<ProductItem>>, ValidationProblem>> GetItemsByIds(
        [FromQuery] int[] ids,
        ProductsContext context,
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

        var items = await context.Products
            .Where(p => ids.Contains(p.Id))
            .OrderBy(p => p.Id)
            .Select(ToItem)
            .ToListAsync(cancellationToken);

        return TypedResults.Ok(items);
    }
}
