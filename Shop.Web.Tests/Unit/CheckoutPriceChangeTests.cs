using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Web.Cart;
using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

/// <summary>
/// A checkout is placed at the total its page showed: the tester's price race (the page showed $89.00, an admin made
/// the product $899 before Place order, and $899 was charged) ends with the page shown again at the new prices.
/// </summary>
public class CheckoutPriceChangeTests
{
    private static readonly ShoppingCart Cart = new ShoppingCart([new CartLine(56, 1)]).BeginCheckout(CheckoutDecision.NewIdempotencyKey);

    private const string Refusal = """
        {"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"The order's total has changed.","status":409,
         "detail":"The items now total 899.00 USD, not the expected 89.00 USD: prices changed since the cart was shown. No order was placed.",
         "errors":{"expectedTotal":["The items now total 899.00 USD, not the expected 89.00 USD: prices changed since the cart was shown."]},
         "expectedTotal":89.00,"total":899.00,"currency":"USD",
         "lines":[{"productId":56,"productName":"Summit 2P Tent","unitPrice":899.00,"quantity":1,"lineTotal":899.00}]}
        """;

    [Fact]
    public void A_submitted_page_places_the_order_at_the_total_it_showed()
    {
        var decision = CheckoutDecision.For(Cart, Cart.Checkout!.IdempotencyKey, Cart.Fingerprint(), CheckoutDecision.FormatTotal(89.00m));

        Assert.Equal(89.00m, Assert.IsType<CheckoutDecision.Place>(decision).ShownTotal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("89,00")]
    [InlineData("-89")]
    public void A_page_without_a_readable_total_is_shown_again_for_its_total_not_as_a_changed_cart(string? shownTotal)
    {
        Assert.IsType<CheckoutDecision.TotalUnknown>(CheckoutDecision.For(Cart, Cart.Checkout!.IdempotencyKey, Cart.Fingerprint(), shownTotal));
    }

    [Fact]
    public async Task The_order_is_sent_with_the_total_the_shopper_was_shown()
    {
        var gateway = new OrderingStub(HttpStatusCode.Created, """{"id":"0199a0b0-0000-7000-8000-000000000001"}""", "application/json");

        var outcome = await new OrderingService(gateway.Client(), NullLogger<OrderingService>.Instance)
            .PlaceOrderAsync("web-key", [new CartLine(56, 1)], 89.00m);

        Assert.NotNull(outcome.OrderId);
        using var body = JsonDocument.Parse(gateway.Body!);
        Assert.Equal(89.00m, body.RootElement.GetProperty("expectedTotal").GetDecimal());
        Assert.Equal("web-key", gateway.IdempotencyKey);
    }

    [Fact]
    public async Task Orderings_refusal_of_a_changed_total_comes_back_with_the_new_prices()
    {
        var gateway = new OrderingStub(HttpStatusCode.Conflict, Refusal, "application/problem+json");

        var outcome = await new OrderingService(gateway.Client(), NullLogger<OrderingService>.Instance)
            .PlaceOrderAsync("web-key", [new CartLine(56, 1)], 89.00m);

        Assert.Null(outcome.OrderId);
        Assert.Equal(409, outcome.Problem!.Status);
        var repriced = Assert.IsType<RepricedOrder>(outcome.Repriced);
        Assert.Equal((89.00m, 899.00m, "USD"), (repriced.ExpectedTotal, repriced.Total, repriced.Currency));
        Assert.Equal([new RepricedLine(56, "Summit 2P Tent", 899.00m, 1, 899.00m)], repriced.Lines);
    }

    [Fact]
    public async Task Another_conflict_carries_no_new_prices()
    {
        var gateway = new OrderingStub(HttpStatusCode.Conflict, """{"title":"Conflict","status":409,"detail":"Something else."}""", "application/problem+json");

        var outcome = await new OrderingService(gateway.Client(), NullLogger<OrderingService>.Instance)
            .PlaceOrderAsync("web-key", [new CartLine(56, 1)], 89.00m);

        Assert.Null(outcome.Repriced);
        Assert.Equal("Something else.", outcome.Problem!.Message("Ordering"));
    }

    [Fact]
    public void The_page_shown_again_carries_orderings_prices_so_its_total_is_what_the_next_submission_expects()
    {
        var tent = new CatalogItem(56, "Summit 2P Tent", "", 89.00m, "Brand", "Tents", 10, 1, 1);
        var stove = new CatalogItem(7, "Camp stove", "", 30.00m, "Brand", "Stoves", 10, 1, 2);
        var priced = PricedCart.Price(new ShoppingCart([new CartLine(56, 1), new CartLine(7, 2)]), [tent, stove]);

        var repriced = priced.WithPrices([new RepricedLine(56, "Summit 2P Tent", 899.00m, 1, 899.00m), new RepricedLine(7, "Camp stove", 30.00m, 2, 60.00m)]);

        Assert.Equal(959.00m, repriced.Total);
        Assert.Equal(899.00m, repriced.Lines.Single(l => l.ProductId == 56).UnitPrice);
        Assert.Equal(149.00m, priced.Total);
    }

    /// <summary>Answers the order post as ordering would through the gateway, and keeps what was sent.</summary>
    private sealed class OrderingStub(HttpStatusCode status, string json, string mediaType) : HttpMessageHandler
    {
        public string? Body { get; private set; }

        public string? IdempotencyKey { get; private set; }

        public HttpClient Client() => new(this) { BaseAddress = new Uri("http://gateway") };

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/api/ordering/orders", request.RequestUri!.AbsolutePath);
            Body = await request.Content!.ReadAsStringAsync(cancellationToken);
            IdempotencyKey = request.Headers.GetValues(OrderingService.IdempotencyKeyHeader).Single();
            return new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, mediaType) };
        }
    }
}
