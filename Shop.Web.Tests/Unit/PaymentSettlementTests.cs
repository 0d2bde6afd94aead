using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

/// <summary>
/// The order page's payment part after the order is final (<see cref="OrderDetailsService.FollowUntilPaymentsSettleAsync"/>):
/// payment settles a cancelled order after ordering has, so the part is read again until no payment can change, rather
/// than showing the charge pending for good.
/// </summary>
public class PaymentSettlementTests
{
    private static readonly Guid OrderId = Guid.Parse("019af8c2-3b1e-7c4d-9a2f-5e6b7c8d9e0f");

    [Fact]
    public async Task A_cancelled_orders_pending_charge_is_read_again_until_payment_has_settled_it()
    {
        var gateway = new GatewaySequence(
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Pending" }]"""),
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Pending" }]"""),
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Cancelled" }]"""),
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Cancelled" }]"""));
        List<OrderDetails> shown = [];

        await FollowAsync(gateway, shown);

        Assert.Equal(3, gateway.Reads);
        Assert.Equal(["Pending", "Pending", "Cancelled"], shown.Select(d => d.Payments![0].Status));
    }

    [Fact]
    public async Task A_charge_that_went_through_for_a_cancelled_order_is_followed_until_its_refund_is_there()
    {
        var gateway = new GatewaySequence(
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Succeeded" }]"""),
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Succeeded" }, { "kind": "Refund", "status": "Pending" }]"""),
            Composed("Cancelled", """[{ "kind": "Charge", "status": "Succeeded" }, { "kind": "Refund", "status": "Succeeded" }]"""));
        List<OrderDetails> shown = [];

        await FollowAsync(gateway, shown);

        Assert.Equal(3, gateway.Reads);
        Assert.Equal("Succeeded", shown[^1].Payments![1].Status);
    }

    [Fact]
    public async Task A_confirmed_order_whose_charge_succeeded_is_read_once()
    {
        var gateway = new GatewaySequence(Composed("Confirmed", """[{ "kind": "Charge", "status": "Succeeded" }]"""));
        List<OrderDetails> shown = [];

        await FollowAsync(gateway, shown);

        Assert.Equal(1, gateway.Reads);
    }

    [Fact]
    public async Task Following_gives_up_after_its_waits_when_payment_never_settles()
    {
        var gateway = new GatewaySequence(Composed("Cancelled", """[{ "kind": "Charge", "status": "Pending" }]"""));
        List<OrderDetails> shown = [];

        await FollowAsync(gateway, shown, waits: 3);

        Assert.Equal(4, gateway.Reads);
    }

    private static async Task FollowAsync(GatewaySequence gateway, List<OrderDetails> shown, int waits = 10)
    {
        using var http = new HttpClient(gateway) { BaseAddress = new Uri("http://gateway") };
        var composed = new OrderDetailsService(http, NullLogger<OrderDetailsService>.Instance);

        await composed.FollowUntilPaymentsSettleAsync(
            OrderId,
            details =>
            {
                shown.Add(details);
                return Task.CompletedTask;
            },
            waits: Enumerable.Repeat(TimeSpan.FromMilliseconds(1), waits));
    }

    private static string Composed(string status, string payments) => $$"""
        {
          "order": {
            "id": "{{OrderId}}", "status": "{{status}}", "total": 179.0, "currency": "USD",
            "createdAt": "2026-11-24T12:00:00+00:00", "updatedAt": "2026-11-24T12:01:00+00:00", "cancellationReason": "Cancelled by the buyer.",
            "lines": [{ "productId": 1, "productName": "Lamp", "pictureUrl": null, "unitPrice": 179.0, "quantity": 1, "lineTotal": 179.0 }],
            "history": [{ "id": 11, "status": "Submitted", "reason": null, "at": "2026-11-24T12:00:00+00:00" },
                        { "id": 12, "status": "{{status}}", "reason": null, "at": "2026-11-24T12:01:00+00:00" }]
          },
          "payments": {{Payments(payments)}},
          "products": [],
          "unavailable": [],
          "notPermitted": []
        }
        """;

    /// <summary>Payment's records with the fields the storefront reads filled in around each kind and status.</summary>
    private static string Payments(string kindsAndStatuses) => kindsAndStatuses.Replace(
        "\"kind\"",
        $"\"id\": \"{Guid.NewGuid()}\", \"orderId\": \"{OrderId}\", \"amount\": 179.0, \"currency\": \"USD\", \"attempts\": 1, \"createdAt\": \"2026-11-24T12:00:30+00:00\", \"kind\"",
        StringComparison.Ordinal);

    /// <summary>A gateway whose composed order changes with each read, as payment settles it; the last answer stays.</summary>
    private sealed class GatewaySequence(params string[] answers) : HttpMessageHandler
    {
        public int Reads { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var json = answers[Math.Min(Reads, answers.Length - 1)];
            Reads++;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        }
    }
}
