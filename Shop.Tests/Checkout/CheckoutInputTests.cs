using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Shop.Tests.Identity;
using Xunit.Abstractions;

namespace Shop.Tests.Checkout;

/// <summary>Issue 6, item 7: bad orders get a 4xx problem that names what is wrong, and leave nothing behind.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CheckoutInputTests(ShopAppFixture shop, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly CheckoutDriver _checkout = new(shop.App);

    public Task InitializeAsync()
    {
        shop.Output = output;
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string, string, string> BadCarts => new()
    {
        { "zero quantity", """{"items":[{"productId":{product},"quantity":0}]}""", "items[0].quantity" },
        { "negative quantity", """{"items":[{"productId":{product},"quantity":-2}]}""", "items[0].quantity" },
        { "unknown product", """{"items":[{"productId":{product},"quantity":1},{"productId":2147483000,"quantity":1}]}""", "items[1].productId" },
        { "empty cart", """{"items":[]}""", "items" },
        { "no cart", """{}""", "items" },
        { "the same product twice", """{"items":[{"productId":{product},"quantity":1},{"productId":{product},"quantity":1}]}""", "items[1].productId" },
        { "oversized cart", "{\"items\":[" + string.Join(',', Enumerable.Range(1, 101).Select(i => $"{{\"productId\":{i},\"quantity\":1}}")) + "]}", "items" },
        { "absurd quantity", """{"items":[{"productId":{product},"quantity":100000}]}""", "items[0].quantity" },
    };

    [Theory]
    [MemberData(nameof(BadCarts))]
    public async Task A_bad_cart_gets_a_validation_problem_naming_the_item_and_no_order(string _, string body, string field)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 5, price: 1m, ct);
        using var shopper = await _checkout.NewShopperAsync("bad-cart", ct);

        using var response = await PostRawAsync(shopper, body.Replace("{product}", product.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), ct);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ct);
        var errors = problem.GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
        Assert.False(string.IsNullOrWhiteSpace(errors.GetProperty(field)[0].GetString()));
        Assert.Empty(await shopper.ListOrdersAsync(ct));
        Assert.Equal(5, (await _checkout.StockAsync(product.Id, ct)).AvailableStock);
    }

    [Theory]
    [InlineData("""{"items":[{"productId":1,"quantity":1}""", "$.items[1]")]
    [InlineData("""{"items":[{"productId":"one","quantity":1}]}""", "$.items[0].productId")]
    [InlineData("""not json at all""", "$")]
    public async Task Malformed_JSON_gets_a_problem_pointing_at_the_bad_value(string body, string path)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        using var shopper = await _checkout.NewShopperAsync("malformed", ct);

        using var response = await PostRawAsync(shopper, body, ct);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ct);
        Assert.Contains($"'{path}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await shopper.ListOrdersAsync(ct));
    }

    [Fact]
    public async Task An_order_without_an_Idempotency_Key_or_with_an_overlong_one_is_refused()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 5, price: 1m, ct);
        using var shopper = await _checkout.NewShopperAsync("no-key", ct);

        using var missing = await shopper.PostOrderAsync(Shopper.Cart((product.Id, 1)), null, ct);
        using var overlong = await shopper.PostOrderAsync(Shopper.Cart((product.Id, 1)), new string('k', 101), ct);

        Assert.Contains("Idempotency-Key", (await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.BadRequest, ct)).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Contains("too long", (await ProblemAssert.IsProblemAsync(overlong, HttpStatusCode.BadRequest, ct)).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Empty(await shopper.ListOrdersAsync(ct));
    }

    [Fact]
    public async Task Another_users_order_is_not_found_whatever_is_asked_of_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 5, price: 1m, ct);
        using var owner = await _checkout.NewShopperAsync("owner", ct);
        using var other = await _checkout.NewShopperAsync("other", ct);
        var orderId = await owner.PlaceOrderAsync(ct, (product.Id, 1));

        using var read = await other.Gateway.GetAsync($"/api/ordering/orders/{orderId}", ct);
        using var cancel = await other.Gateway.PostAsync($"/api/ordering/orders/{orderId}/cancel", null, ct);
        using var stream = await other.Gateway.GetAsync($"/api/ordering/orders/{orderId}/events", ct);
        using var unknown = await other.Gateway.GetAsync($"/api/ordering/orders/{Guid.NewGuid()}", ct);

        foreach (var response in new[] { read, cancel, stream, unknown })
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, ct);
            Assert.Equal("Order not found.", problem.GetProperty("title").GetString());
        }

        Assert.Empty(await other.ListOrdersAsync(ct));
        Assert.Empty(await other.PaymentsAsync(orderId, ct));
        var (order, _) = await owner.WaitUntilFinalAsync(orderId, ct);
        Assert.Equal("Confirmed", order.Status());

        using var anonymous = _checkout.Identity.CreateGatewayClient();
        using var anonymousOrder = await anonymous.PostAsync("/api/ordering/orders", JsonContent.Create(Shopper.Cart((product.Id, 1))), ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousOrder.StatusCode);
    }

    private static async Task<HttpResponseMessage> PostRawAsync(Shopper shopper, string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ordering/orders") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return await shopper.Gateway.SendAsync(request, cancellationToken);
    }
}
