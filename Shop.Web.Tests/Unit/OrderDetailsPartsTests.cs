using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

/// <summary>
/// The gateway's composed order as the storefront reads it (<see cref="OrderDetailsService.GetOrderDetailsAsync"/>) and
/// what the order page then says where payments would be: a part the shopper may not see (<c>notPermitted</c>) is
/// worded apart from one whose service is down (<c>unavailable</c>).
/// </summary>
public class OrderDetailsPartsTests
{
    private static readonly Guid OrderId = Guid.Parse("8f0e7c3a-1b2d-4e5f-9a6b-7c8d9e0f1a2b");

    [Fact]
    public async Task Payments_the_shopper_may_not_see_are_said_to_be_not_permitted()
    {
        var details = await ReadAsync(unavailable: "[]", notPermitted: """["payments"]""");

        Assert.Null(details.Payments);
        Assert.Equal("You are not permitted to see the payment details.", details.MissingPayments());
    }

    [Fact]
    public async Task Payments_whose_service_is_down_are_said_to_be_unavailable_right_now()
    {
        var details = await ReadAsync(unavailable: """["payments"]""", notPermitted: "[]");

        Assert.Equal("Payment details are unavailable right now.", details.MissingPayments());
    }

    [Fact]
    public async Task A_gateway_that_names_no_refused_parts_leaves_missing_payments_unavailable()
    {
        var details = await ReadAsync(unavailable: """["payments"]""", notPermitted: null);

        Assert.Null(details.NotPermitted);
        Assert.Equal("Payment details are unavailable right now.", details.MissingPayments());
    }

    /// <summary>The order page's data, read from a gateway that answers the composed order as the gateway's endpoint does.</summary>
    private static async Task<OrderDetails> ReadAsync(string unavailable, string? notPermitted)
    {
        var json = $$"""
            {
              "order": {
                "id": "{{OrderId}}", "status": "Paid", "total": 10.0, "currency": "USD",
                "createdAt": "2026-11-24T12:00:00+00:00", "updatedAt": "2026-11-24T12:01:00+00:00", "cancellationReason": null,
                "lines": [{ "productId": 1, "productName": "Lamp", "pictureUrl": null, "unitPrice": 10.0, "quantity": 1, "lineTotal": 10.0 }],
                "history": [{ "id": 11, "status": "Submitted", "reason": null, "at": "2026-11-24T12:00:00+00:00" }]
              },
              "payments": null,
              "products": [],
              "unavailable": {{unavailable}}{{(notPermitted is null ? "" : $",\n  \"notPermitted\": {notPermitted}")}}
            }
            """;
        using var http = new HttpClient(new GatewayStub($"/api/bff/orders/{OrderId}", json)) { BaseAddress = new Uri("http://gateway") };
        var composed = new OrderDetailsService(http, NullLogger<OrderDetailsService>.Instance);

        return await composed.GetOrderDetailsAsync(OrderId) ?? throw new InvalidOperationException("The stub answered no order.");
    }

    private sealed class GatewayStub(string path, string json) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(request.RequestUri?.AbsolutePath == path
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(HttpStatusCode.NotFound));
    }
}
