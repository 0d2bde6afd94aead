using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

public class OrderStatusTests
{
    private static readonly DateTimeOffset Placed = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly Order Submitted = new(
        Guid.NewGuid(), OrderStatus.Submitted, 10m, "USD", Placed, Placed, null,
        [new OrderLine(1, "Lamp", null, 10m, 1, 10m)],
        [new OrderStatusChange(11, OrderStatus.Submitted, null, Placed)]);

    private static OrderStatusEvent Event(long id, OrderStatus status, string? reason = null) =>
        new(id, Submitted.Id, status, reason, Placed.AddSeconds(id));

    [Fact]
    public void Each_change_from_the_stream_moves_the_order_on_and_joins_its_history()
    {
        var order = Submitted.With(Event(12, OrderStatus.StockReserved)).With(Event(13, OrderStatus.Paid)).With(Event(14, OrderStatus.Confirmed));

        Assert.Equal(OrderStatus.Confirmed, order.Status);
        Assert.Equal([11L, 12, 13, 14], order.History.Select(h => h.Id));
        Assert.Equal(Placed.AddSeconds(14), order.UpdatedAt);
    }

    [Fact]
    public void The_replayed_history_and_other_orders_events_change_nothing()
    {
        var order = Submitted.With(Event(12, OrderStatus.StockReserved));

        Assert.Same(order, order.With(Event(11, OrderStatus.Submitted)));
        Assert.Same(order, order.With(Event(12, OrderStatus.StockReserved)));
        Assert.Same(order, order.With(new OrderStatusEvent(99, Guid.NewGuid(), OrderStatus.Cancelled, "other", Placed)));
    }

    [Fact]
    public void An_order_read_while_a_change_committed_takes_the_status_of_its_history_when_the_stream_replays_it()
    {
        // Its history already holds the reservation, its status does not: what a read spanning the change could give.
        var read = Submitted with { History = [.. Submitted.History, new OrderStatusChange(12, OrderStatus.StockReserved, null, Placed.AddSeconds(12))] };

        var order = read.With(Event(11, OrderStatus.Submitted)).With(Event(12, OrderStatus.StockReserved));

        Assert.Equal(OrderStatus.StockReserved, order.Status);
        Assert.Equal(Placed.AddSeconds(12), order.UpdatedAt);
        Assert.Equal([11L, 12], order.History.Select(h => h.Id));
    }

    [Fact]
    public void Changes_arriving_out_of_order_leave_the_latest_status()
    {
        var order = Submitted.With(Event(13, OrderStatus.Cancelled, "Payment declined.")).With(Event(12, OrderStatus.StockReserved));

        Assert.Equal(OrderStatus.Cancelled, order.Status);
        Assert.Equal("Payment declined.", order.CancellationReason);
        Assert.Equal([11L, 12, 13], order.History.Select(h => h.Id));
    }

    [Theory]
    [InlineData(OrderStatus.Submitted, true, false)]
    [InlineData(OrderStatus.StockReserved, true, false)]
    [InlineData(OrderStatus.Paid, false, false)]
    [InlineData(OrderStatus.Confirmed, false, true)]
    [InlineData(OrderStatus.Cancelled, false, true)]
    public void Only_unpaid_orders_offer_cancelling_and_only_confirmed_or_cancelled_ones_are_final(OrderStatus status, bool canCancel, bool isFinal)
    {
        Assert.Equal((canCancel, isFinal), (status.CanCancel(), status.IsFinal()));
    }
}
