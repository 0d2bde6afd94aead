using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Checkout;

/// <summary>
/// Issue 6, item 5's other branch: a card gateway failing every call for longer than the charge deadline (5 seconds in
/// this Shop, AppHost parameter <c>payment-charge-deadline</c>) cancels the order and releases its stock. The charge
/// may have reached the gateway, so payment keeps asking under its key; once the gateway answers, whatever went
/// through is refunded and no money is kept.
/// </summary>
[Collection(SecondShopCollection.Name)]
public sealed class PaymentDeadlineTests(SecondShopFixture shop, ITestOutputHelper output)
{
    private readonly CheckoutDriver _checkout = new(shop.App);

    [Fact]
    public async Task A_payment_gateway_failing_past_the_charge_deadline_cancels_the_order_releases_its_stock_and_keeps_no_money()
    {
        shop.Output = output;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 5, price: 9m, ct);
        var buyer = await _checkout.Identity.RegisterAsync("deadline", ct);
        Guid orderId;

        // Access tokens live 30 seconds here: each step signs the buyer in afresh.
        async Task<T> AsBuyerAsync<T>(Func<Shopper, Task<T>> step)
        {
            using var shopper = await _checkout.SignInAsync(buyer, ct);
            return await step(shopper);
        }

        await using (await _checkout.Simulator.ChangeAsync(new { failureRate = 1.0 }, ct))
        {
            orderId = await AsBuyerAsync(shopper => shopper.PlaceOrderAsync(ct, (product.Id, 2)));

            var cancelled = await CheckoutDriver.EventuallyAsync(() => AsBuyerAsync(s => s.GetOrderAsync(orderId, ct)), o => o.Status() == "Cancelled", "the order to be cancelled at the charge deadline", ct, intervalMs: 1000);
            Assert.Equal($"Payment failed: The payment gateway was unavailable for {SecondShopFixture.ChargeDeadline.TotalSeconds:0} seconds.", cancelled.GetProperty("cancellationReason").GetString());
            Assert.Equal(["Submitted", "StockReserved", "Cancelled"], cancelled.GetProperty("history").EnumerateArray().Select(h => h.Status()));
            var stock = await CheckoutDriver.EventuallyAsync(() => _checkout.StockAsync(product.Id, ct), s => s.ReservedStock == 0, "the reservation to be released", ct);
            Assert.Equal(new StockLevel(product.Id, 5, 0, 5), stock);
            Assert.Equal(0m, (await _checkout.Simulator.LedgerAsync(orderId, ct)).NetCharged());
        }

        // The gateway answers again: the charge is settled under its key, and refunded if it went through.
        var payments = await CheckoutDriver.EventuallyAsync(
            () => AsBuyerAsync(s => s.PaymentsAsync(orderId, ct)),
            p => p.SettledWithNothingKept(),
            "payment to settle the cancelled order's charge",
            ct,
            intervalMs: 1000);
        Assert.Equal("Charge", payments[0].GetProperty("kind").GetString());
        Assert.Equal(0m, (await _checkout.Simulator.LedgerAsync(orderId, ct)).NetCharged());
        Assert.Equal("Cancelled", (await AsBuyerAsync(s => s.GetOrderAsync(orderId, ct))).Status());
    }
}
