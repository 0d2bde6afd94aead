using Microsoft.AspNetCore.Http.HttpResults;
using Ordering.Api.Model;
using Ordering.Api.Services;

namespace Ordering.Api.Apis;

public static class QuotesApi
{
    public static IEndpointRouteBuilder MapQuotesApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/ordering").WithTags("Quotes");

        api.MapPost("/quotes", CreateQuote)
            .WithName("CreateQuote")
            .WithSummary("Price a cart")
            .WithDescription("Prices each item with the catalog's current price and totals them. Nothing is stored or reserved.");

        return app;
    }

    public static async Task<Results<Ok<Quote>, ValidationProblem, ProblemHttpResult>> CreateQuote(
        QuoteRequest request,
        ProductsClient products,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        var errors = CartPricing.Validate(request.Items, "quote");
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var items = request.Items!;
        IReadOnlyList<CatalogProduct> catalog;
        try
        {
            catalog = await products.GetProductsAsync(items.Select(i => i.ProductId).ToArray(), cancellationToken);
        }
        catch (ProductsUnavailableException)
        {
            return CatalogUnavailable(httpContext, "Prices could not be read from the products service. Try again shortly.");
        }

        return CartPricing.TryPrice(items, catalog, out var quote, out errors)
            ? TypedResults.Ok(quote)
            : TypedResults.ValidationProblem(errors);
    }

    /// <summary>503 with <c>Retry-After</c>: products did not answer (down, restarting, or without its database).</summary>
    internal static ProblemHttpResult CatalogUnavailable(HttpContext httpContext, string detail)
    {
        httpContext.Response.SetUnavailableRetryAfter();
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The product catalog is unavailable.", detail: detail);
    }
}
