using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Products;

/// <summary>
/// Inventory driven by the checkout saga's events, put on the real broker as ordering publishes them and handled by
/// the products service through its event bus (inbox, outbox) against its real database.
/// </summary>
[Collection(ShopAppCollection.Name)]
public sealed class ReservationTests
{
    private readonly CatalogDriver _catalog;

    public ReservationTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        shop.Output = output;
        _catalog = new CatalogDriver(shop.App);
    }

    [Fact]
    public async Task An_order_is_reserved_whole_or_not_at_all_and_the_answer_is_published()
    {
        var ct = Timeout();
        var (plenty, scarce) = (await ProductAsync(5, ct), await ProductAsync(1, ct));
        var (rejected, reserved) = (Guid.NewGuid(), Guid.NewGuid());

        await _catalog.PublishAsync(rejected, ct, OrderEvent.Submitted(rejected, new OrderLine(plenty, 2, 10m), new OrderLine(scarce, 2, 10m)));
        await _catalog.WaitForReservationAsync(rejected, "Rejected", ct);
        Assert.Equal((5, 0), await _catalog.StockAsync(plenty, ct));
        Assert.Equal((1, 0), await _catalog.StockAsync(scarce, ct));

        await _catalog.PublishAsync(reserved, ct, OrderEvent.Submitted(reserved, new OrderLine(plenty, 2, 10m), new OrderLine(scarce, 1, 10m)));
        await _catalog.WaitForReservationAsync(reserved, "Reserved", ct);
        Assert.Equal((3, 2), await _catalog.StockAsync(plenty, ct));
        Assert.Equal((0, 1), await _catalog.StockAsync(scarce, ct));

        // Ordering hears the answer on the stock topic, keyed by the order.
        var rejection = Assert.Single(await PublishedAsync(rejected, ct));
        Assert.Equal("StockRejectedIntegrationEvent", rejection.Type);
        var line = Assert.Single(rejection.Payload.GetProperty("lines").EnumerateArray());
        Assert.Equal((scarce, 2, 1), (line.GetProperty("productId").GetInt32(), line.GetProperty("requested").GetInt32(), line.GetProperty("available").GetInt32()));
        Assert.Equal("StockReservedIntegrationEvent", Assert.Single(await PublishedAsync(reserved, ct)).Type);

        // Shoppers see the stock that is left as soon as the reservation is in (the cache is refreshed after its commit).
        using var shopper = _catalog.Anonymous();
        await CatalogAdminTests.EventuallyAsync(
            async () => (await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{plenty}", ct)).GetProperty("availableStock").GetInt32(),
            available => available == 3, "the catalog to show 3 available", ct);
    }

    [Fact]
    public async Task Cancelling_releases_the_reservation_once_however_often_it_is_delivered()
    {
        var ct = Timeout();
        var product = await ProductAsync(5, ct);
        var order = Guid.NewGuid();
        await _catalog.PublishAsync(order, ct, OrderEvent.Submitted(order, new OrderLine(product, 2, 10m)));
        await _catalog.WaitForReservationAsync(order, "Reserved", ct);
        Assert.Equal((3, 2), await _catalog.StockAsync(product, ct));

        // The same cancellation twice (a redelivery), then another one for the same order, then a marker order on
        // the same partition: once the marker is reserved, everything before it has been handled.
        var cancellation = Guid.NewGuid();
        var marker = Guid.NewGuid();
        await _catalog.PublishAsync(order.ToString(), ct,
            OrderEvent.Cancelled(cancellation, order), OrderEvent.Cancelled(cancellation, order), OrderEvent.Cancelled(order),
            OrderEvent.Submitted(marker, new OrderLine(product, 1, 10m)));
        await _catalog.WaitForReservationAsync(marker, "Reserved", ct);

        Assert.Equal("Released", await _catalog.ReservationStatusAsync(order, ct));
        Assert.Equal((4, 1), await _catalog.StockAsync(product, ct));
    }

    [Fact]
    public async Task Confirming_turns_the_reservation_into_a_sale_once_and_a_later_cancellation_changes_nothing()
    {
        var ct = Timeout();
        var product = await ProductAsync(5, ct);
        var order = Guid.NewGuid();
        var lines = new[] { new OrderLine(product, 3, 10m) };
        await _catalog.PublishAsync(order, ct, OrderEvent.Submitted(order, lines));
        await _catalog.WaitForReservationAsync(order, "Reserved", ct);

        var marker = Guid.NewGuid();
        await _catalog.PublishAsync(order.ToString(), ct,
            OrderEvent.Confirmed(order, lines), OrderEvent.Confirmed(order, lines), OrderEvent.Cancelled(order),
            OrderEvent.Submitted(marker, new OrderLine(product, 1, 10m)));
        await _catalog.WaitForReservationAsync(marker, "Reserved", ct);

        Assert.Equal("Sold", await _catalog.ReservationStatusAsync(order, ct));
        // Three units sold and gone; one held for the marker; one left.
        Assert.Equal((1, 1), await _catalog.StockAsync(product, ct));
    }

    [Fact]
    public async Task A_duplicated_submission_has_no_second_effect()
    {
        var ct = Timeout();
        var product = await ProductAsync(10, ct);
        var order = Guid.NewGuid();
        var submission = OrderEvent.Submitted(Guid.NewGuid(), order, new OrderLine(product, 4, 10m));
        var marker = Guid.NewGuid();

        // The very same event twice (Kafka redelivery, the relay republishing), then the same order under a new event
        // id (a second submission), then the marker.
        await _catalog.PublishAsync(order.ToString(), ct,
            submission, submission, OrderEvent.Submitted(order, new OrderLine(product, 4, 10m)),
            OrderEvent.Submitted(marker, new OrderLine(product, 1, 10m)));
        await _catalog.WaitForReservationAsync(marker, "Reserved", ct);

        Assert.Equal("Reserved", await _catalog.ReservationStatusAsync(order, ct));
        Assert.Equal((5, 5), await _catalog.StockAsync(product, ct));
        // The relay publishes in commit order: once the marker's answer is out, a second answer would be too.
        await PublishedAsync(marker, ct);
        Assert.Single(await PublishedAsync(order, ct));
    }

    [Fact]
    public async Task Fifty_concurrent_orders_for_the_last_ten_units_reserve_exactly_ten_and_stock_never_goes_negative()
    {
        var ct = Timeout(seconds: 120);
        var product = await ProductAsync(10, ct);
        var orders = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToList();

        // One burst, keyed by order: spread over the topic's partitions and handled side by side.
        await _catalog.PublishAsync(orders.Select(o => (o.ToString(), OrderEvent.Submitted(o, new OrderLine(product, 1, 10m)))), ct);

        var statuses = await CatalogAdminTests.EventuallyAsync(
            async () => await Task.WhenAll(orders.Select(o => _catalog.ReservationStatusAsync(o, ct))),
            seen => seen.All(s => s is not null), "every order to be decided", ct);

        Assert.Equal(10, statuses.Count(s => s == "Reserved"));
        Assert.Equal(40, statuses.Count(s => s == "Rejected"));
        Assert.Equal((0, 10), await _catalog.StockAsync(product, ct));

        // Releasing them all gives back exactly what was held.
        await _catalog.PublishAsync(orders.Select(o => (o.ToString(), OrderEvent.Cancelled(o))), ct);
        await CatalogAdminTests.EventuallyAsync(
            () => _catalog.StockAsync(product, ct), stock => stock.Reserved == 0, "every reservation to be released", ct);
        Assert.Equal((10, 0), await _catalog.StockAsync(product, ct));
    }

    private async Task<int> ProductAsync(int stock, CancellationToken cancellationToken) =>
        (await _catalog.CreateProductAsync(stock, 10m, cancellationToken)).GetProperty("id").GetInt32();

    private Task<List<(string Type, JsonElement Payload)>> PublishedAsync(Guid orderId, CancellationToken cancellationToken) =>
        CatalogAdminTests.EventuallyAsync(
            () => _catalog.PublishedAsync(CatalogDriver.StockTopic, orderId.ToString(), cancellationToken),
            events => events.Count > 0, $"products' answer to order {orderId}", cancellationToken);

    private static CancellationToken Timeout(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;
}
