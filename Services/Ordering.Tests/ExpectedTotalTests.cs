using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Ordering.Api.Apis;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Ordering.Api.Services;
using Shop.EventBus;

namespace Ordering.Tests;

/// <summary>
/// An order carries the total its buyer was shown: when the catalog's prices have changed since, it is refused for
/// review, nothing is stored, and its Idempotency-Key stays usable (the tester's price race: $89 shown, $899 charged).
/// </summary>
[Collection(OrderingDatabaseCollection.Name)]
public sealed class ExpectedTotalTests(OrderingDatabaseFixture database) : OrderingDatabaseTest(database)
{
    private const string Buyer = "bob";
    private static readonly CatalogProduct Tent = new(56, "Summit 2P Tent", 89.00m, 10);
    private static readonly CatalogProduct TentRepriced = Tent with { Price = 899.00m };
    private static readonly CartItem[] Cart = [new(56, 1)];

    [Fact]
    public async Task An_order_whose_prices_changed_since_the_buyer_saw_them_is_refused_with_the_current_prices_and_nothing_is_stored()
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await Placement(scope, TentRepriced).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: 89.00m, CancellationToken.None);

        var changed = Assert.IsType<PlaceOrderResult.TotalChanged>(result);
        Assert.Equal(89.00m, changed.ExpectedTotal);
        Assert.Equal(899.00m, changed.Quote.Total);
        Assert.Equal([new QuoteLine(56, "Summit 2P Tent", 899.00m, 1, 899.00m)], changed.Quote.Lines);
        var db = scope.ServiceProvider.GetRequiredService<OrderingContext>();
        Assert.Equal(0, await db.Orders.CountAsync());
        Assert.Equal(0, await db.Set<OutboxMessage>().CountAsync());
    }

    [Fact]
    public async Task The_refusal_is_a_409_problem_naming_expectedTotal_with_the_current_total_and_lines()
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await OrdersApi.CreateOrder(
            "key-1",
            new CreateOrderRequest(Cart, ExpectedTotal: 89.00m),
            new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", Buyer)], "test")),
            new DefaultHttpContext(),
            Placement(scope, TentRepriced),
            new OrderQueries(scope.ServiceProvider.GetRequiredService<OrderingContext>()),
            CancellationToken.None);

        var problem = Assert.IsType<ProblemHttpResult>(result.Result).ProblemDetails;
        Assert.Equal(StatusCodes.Status409Conflict, problem.Status);
        Assert.Equal("The order's total has changed.", problem.Title);
        var errors = Assert.IsType<Dictionary<string, string[]>>(problem.Extensions["errors"]);
        Assert.Equal(
            "The items now total 899.00 USD, not the expected 89.00 USD: prices changed since the cart was shown.",
            Assert.Single(errors["expectedTotal"]));
        Assert.Equal(899.00m, problem.Extensions["total"]);
        Assert.Equal("USD", problem.Extensions["currency"]);
        Assert.Equal([new QuoteLine(56, "Summit 2P Tent", 899.00m, 1, 899.00m)], Assert.IsAssignableFrom<IReadOnlyList<QuoteLine>>(problem.Extensions["lines"]));
    }

    [Fact]
    public async Task After_the_refusal_the_same_key_places_the_order_at_the_total_the_buyer_reviewed()
    {
        await using (var refused = Ordering.Services.CreateAsyncScope())
        {
            Assert.IsType<PlaceOrderResult.TotalChanged>(
                await Placement(refused, TentRepriced).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: 89.00m, CancellationToken.None));
        }

        await using var scope = Ordering.Services.CreateAsyncScope();
        var result = await Placement(scope, TentRepriced).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: 899.00m, CancellationToken.None);

        var created = Assert.IsType<PlaceOrderResult.Created>(result);
        Assert.Equal(899.00m, created.Order.Total);
        Assert.Equal("key-1", created.Order.IdempotencyKey);
    }

    [Fact]
    public async Task A_retry_of_an_order_placed_before_the_prices_changed_gets_that_order_at_its_own_total()
    {
        Guid placed;
        await using (var first = Ordering.Services.CreateAsyncScope())
        {
            placed = Assert.IsType<PlaceOrderResult.Created>(
                await Placement(first, Tent).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: 89.00m, CancellationToken.None)).Order.Id;
        }

        await using var scope = Ordering.Services.CreateAsyncScope();
        var result = await Placement(scope, TentRepriced).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: 89.00m, CancellationToken.None);

        var replayed = Assert.IsType<PlaceOrderResult.Replayed>(result);
        Assert.Equal(placed, replayed.Order.Id);
        Assert.Equal(89.00m, replayed.Order.Total);
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<OrderingContext>().Orders.CountAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(89)]
    public async Task An_order_without_an_expected_total_or_with_the_one_shown_is_placed_at_the_catalog_price(int? expected)
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await Placement(scope, Tent).PlaceAsync(Buyer, "key-1", Cart, expected, CancellationToken.None);

        Assert.Equal(89.00m, Assert.IsType<PlaceOrderResult.Created>(result).Order.Total);
    }

    [Fact]
    public async Task A_negative_expected_total_is_a_validation_problem_naming_it()
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await Placement(scope, Tent).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: -1m, CancellationToken.None);

        Assert.Equal(["expectedTotal"], Assert.IsType<PlaceOrderResult.Invalid>(result).Errors.Keys);
    }

    [Theory]
    [InlineData("89.0001")]
    [InlineData("88.999")]
    public async Task An_expected_total_with_a_fraction_of_a_cent_is_a_validation_problem_naming_it_not_a_price_change(string expected)
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await Placement(scope, Tent).PlaceAsync(
            Buyer, "key-1", Cart, decimal.Parse(expected, CultureInfo.InvariantCulture), CancellationToken.None);

        Assert.Equal(["expectedTotal"], Assert.IsType<PlaceOrderResult.Invalid>(result).Errors.Keys);
    }

    [Fact]
    public async Task An_expected_total_with_trailing_zeros_past_the_cents_is_the_same_total()
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await Placement(scope, Tent).PlaceAsync(Buyer, "key-1", Cart, expectedTotal: 89.0000m, CancellationToken.None);

        Assert.Equal(89.00m, Assert.IsType<PlaceOrderResult.Created>(result).Order.Total);
    }

    [Fact]
    public async Task An_invalid_expected_total_is_a_400_whose_title_does_not_blame_the_items()
    {
        await using var scope = Ordering.Services.CreateAsyncScope();

        var result = await OrdersApi.CreateOrder(
            "key-1",
            new CreateOrderRequest(Cart, ExpectedTotal: -1m),
            new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", Buyer)], "test")),
            new DefaultHttpContext(),
            Placement(scope, Tent),
            new OrderQueries(scope.ServiceProvider.GetRequiredService<OrderingContext>()),
            CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result).ProblemDetails;
        Assert.Equal(StatusCodes.Status400BadRequest, problem.Status);
        Assert.Equal("The order request is invalid.", problem.Title);
        Assert.Equal(["expectedTotal"], problem.Errors.Keys);
    }

    private static OrderPlacement Placement(AsyncServiceScope scope, params CatalogProduct[] catalog) => new(
        scope.ServiceProvider.GetRequiredService<OrderingContext>(),
        new FakeProductsHandler(catalog).CreateClient(),
        Options.Create(new OrderingOptions()),
        TimeProvider.System,
        NullLogger<OrderPlacement>.Instance);
}
