using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Ordering.Api.Apis;
using Ordering.Api.Model;
using Ordering.Api.Services;

namespace Ordering.Tests;

public class QuoteTests
{
    private static readonly CatalogProduct Backpack = new(1, "Trailhead 40L Backpack", 129.00m, 25);
    private static readonly CatalogProduct Poles = new(4, "Alpine Trekking Poles", 89.95m, 30);

    private static QuoteRequest Cart(params (int ProductId, int Quantity)[] items) =>
        new(items.Select(i => new CartItem(i.ProductId, i.Quantity)).ToList());

    [Fact]
    public async Task Quote_prices_each_line_with_the_catalog_price_and_totals_them()
    {
        var products = new FakeProductsHandler(Backpack, Poles);

        var result = await QuotesApi.CreateQuote(Cart((1, 2), (4, 3)), products.CreateClient(), new DefaultHttpContext(), CancellationToken.None);

        var quote = Assert.IsType<Ok<Quote>>(result.Result).Value!;
        Assert.Equal(
            [new QuoteLine(1, "Trailhead 40L Backpack", 129.00m, 2, 258.00m), new QuoteLine(4, "Alpine Trekking Poles", 89.95m, 3, 269.85m)],
            quote.Lines);
        Assert.Equal(527.85m, quote.Total);
    }

    [Fact]
    public async Task All_products_are_looked_up_in_one_call()
    {
        var products = new FakeProductsHandler(Backpack, Poles);

        await QuotesApi.CreateQuote(Cart((1, 1), (4, 1)), products.CreateClient(), new DefaultHttpContext(), CancellationToken.None);

        var request = Assert.Single(products.Requests);
        Assert.Equal("http://products/api/products/items/by?ids=1&ids=4", request.ToString());
    }

    [Fact]
    public async Task Unknown_product_is_a_validation_problem_naming_the_item()
    {
        var products = new FakeProductsHandler(Backpack);

        var result = await QuotesApi.CreateQuote(Cart((1, 1), (999, 2)), products.CreateClient(), new DefaultHttpContext(), CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        var (field, messages) = Assert.Single(problem.ProblemDetails.Errors);
        Assert.Equal("items[1].productId", field);
        Assert.Equal("Product 999 does not exist.", Assert.Single(messages));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task Quantity_below_one_is_refused_without_calling_products(int quantity)
    {
        var products = new FakeProductsHandler(Backpack);

        var result = await QuotesApi.CreateQuote(Cart((1, quantity)), products.CreateClient(), new DefaultHttpContext(), CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        Assert.Equal(["items[0].quantity"], problem.ProblemDetails.Errors.Keys);
        Assert.Empty(products.Requests);
    }

    [Fact]
    public async Task Empty_cart_is_refused()
    {
        var products = new FakeProductsHandler(Backpack);

        var empty = await QuotesApi.CreateQuote(Cart(), products.CreateClient(), new DefaultHttpContext(), CancellationToken.None);
        var missing = await QuotesApi.CreateQuote(new QuoteRequest(null), products.CreateClient(), new DefaultHttpContext(), CancellationToken.None);

        Assert.Equal(["items"], Assert.IsType<ValidationProblem>(empty.Result).ProblemDetails.Errors.Keys);
        Assert.Equal(["items"], Assert.IsType<ValidationProblem>(missing.Result).ProblemDetails.Errors.Keys);
        Assert.Empty(products.Requests);
    }

    [Fact]
    public void Duplicate_products_null_items_and_bad_ids_are_each_named()
    {
        var request = new QuoteRequest([new CartItem(1, 1), null!, new CartItem(1, 2), new CartItem(0, 1)]);

        var errors = CartPricing.Validate(request.Items, "quote");

        Assert.Equal(["items[1]", "items[2].productId", "items[3].productId"], errors.Keys.Order());
    }

    [Fact]
    public void Carts_over_the_item_limit_are_refused()
    {
        var request = new QuoteRequest(Enumerable.Range(1, CartPricing.MaxItems + 1).Select(id => new CartItem(id, 1)).ToList());

        var errors = CartPricing.Validate(request.Items, "quote");

        Assert.Contains($"at most {CartPricing.MaxItems} items", Assert.Single(errors["items"]));
    }

    [Fact]
    public async Task Products_failing_is_a_503_problem_not_a_server_error()
    {
        var products = new FakeProductsHandler(Backpack) { FailWith = HttpStatusCode.InternalServerError };

        var httpContext = new DefaultHttpContext();
        var result = await QuotesApi.CreateQuote(Cart((1, 1)), products.CreateClient(), httpContext, CancellationToken.None);

        var problem = Assert.IsType<ProblemHttpResult>(result.Result);
        Assert.Equal(503, problem.StatusCode);
        Assert.Equal("The product catalog is unavailable.", problem.ProblemDetails.Title);
        Assert.Equal("5", httpContext.Response.Headers.RetryAfter.ToString());
    }
}
