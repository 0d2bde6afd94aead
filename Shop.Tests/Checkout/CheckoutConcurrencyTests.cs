using Xunit.Abstractions;

namespace Shop.Tests.Checkout;

/// <summary>Issue 6, item 4: the last units of a product are sold exactly once.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CheckoutConcurrencyTests(ShopAppFixture shop, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly CheckoutDriver _checkout = new(shop.App);

    public async Task InitializeAsync()
    {
        shop.Output = output;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await shop.App.ResourceNotifications.WaitForResourceHealthyAsync("payment-gateway", timeout.Token);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Fifty_concurrent_orders_for_the_last_ten_units_confirm_exactly_ten_and_stock_never_goes_negative()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 10, price: 25m, ct);
        var shoppers = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => _checkout.NewShopperAsync($"rush-{i}", ct)));
        try
        {
            // Stock is watched all along: available and reserved must never dip below zero.
            var observed = new List<StockLevel>();
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var watcher = Task.Run(async () =>
            {
                while (!watching.IsCancellationRequested)
                {
                    observed.Add(await _checkout.StockAsync(product.Id, ct));
                    // Four reads a second: well inside the admin's rate limit at the gateway (100 per 10 s), which
                    // the test's other admin calls share.
                    await Task.Delay(250, CancellationToken.None);
                }
            }, CancellationToken.None);

            var placed = await Task.WhenAll(shoppers.SelectMany(s => Enumerable.Range(0, 10).Select(_ => s.PlaceOrderAsync(ct, (product.Id, 1)))));
            Assert.Equal(50, placed.Distinct().Count());

            var orders = await CheckoutDriver.EventuallyAsync(
                async () => (await Task.WhenAll(shoppers.Select(s => s.ListOrdersAsync(ct)))).SelectMany(o => o).ToList(),
                all => all.Count == 50 && all.All(o => CheckoutDriver.FinalStatuses.Contains(o.Status())),
                "all fifty orders to reach a final status",
                ct,
                intervalMs: 1000);
            var stock = await CheckoutDriver.EventuallyAsync(() => _checkout.StockAsync(product.Id, ct), s => s.ReservedStock == 0, "every sale", ct);
            await watching.CancelAsync();
            await watcher;

            var confirmed = orders.Where(o => o.Status() == "Confirmed").Select(o => o.GetProperty("id").GetGuid()).ToList();
            Assert.Equal(10, confirmed.Count);
            Assert.All(orders.Where(o => o.Status() != "Confirmed"), o =>
                Assert.StartsWith($"Not enough stock: {product.Name} (1 requested, 0 available)", o.GetProperty("cancellationReason").GetString()));
            Assert.Equal(new StockLevel(product.Id, 0, 0, 0), stock);
            Assert.NotEmpty(observed);
            Assert.All(observed, s => Assert.True(s.AvailableStock >= 0 && s.ReservedStock >= 0 && s.AvailableStock + s.ReservedStock <= 10, $"Stock went out of bounds: {s}"));

            // Only the confirmed orders were charged, once each.
            foreach (var order in orders)
            {
                var id = order.GetProperty("id").GetGuid();
                var ledger = await _checkout.Simulator.LedgerAsync(id, ct);
                Assert.Equal(confirmed.Contains(id) ? 25m : 0m, ledger.NetCharged());
                Assert.True(ledger.Count <= 1, $"Order {id} has {ledger.Count} ledger entries.");
            }
        }
        finally
        {
            foreach (var shopper in shoppers)
            {
                shopper.Dispose();
            }
        }
    }
}
