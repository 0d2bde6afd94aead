using Ordering.Api.Model;
using Ordering.Api.Services;

namespace Ordering.Tests;

public class OrderSagaTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static Order NewOrder() => Order.Submit(
        Guid.CreateVersion7(), "buyer-1", "key-1", "hash", "USD",
        [new OrderLine { ProductId = 1, ProductName = "Backpack", UnitPrice = 129.00m, Quantity = 2 },
         new OrderLine { ProductId = 4, ProductName = "Poles", UnitPrice = 89.95m, Quantity = 1 }],
        Now);

    [Fact]
    public void A_new_order_is_submitted_with_its_total_and_one_history_entry()
    {
        var order = NewOrder();

        Assert.Equal(OrderStatus.Submitted, order.Status);
        Assert.Equal(347.95m, order.Total);
        Assert.Equal([OrderStatus.Submitted], order.History.Select(h => h.Status));
    }

    [Fact]
    public void The_happy_path_records_every_step_in_order()
    {
        var order = NewOrder();

        Assert.True(order.ReserveStock(Now.AddSeconds(1)));
        Assert.True(order.ConfirmPayment(Now.AddSeconds(2)));

        Assert.Equal(OrderStatus.Confirmed, order.Status);
        Assert.True(order.IsFinal);
        Assert.Equal([OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.Paid, OrderStatus.Confirmed], order.History.Select(h => h.Status));
        Assert.Equal(Now.AddSeconds(2), order.UpdatedAt);
    }

    [Fact]
    public void Payment_before_the_stock_is_reserved_changes_nothing()
    {
        var order = NewOrder();

        Assert.False(order.ConfirmPayment(Now));

        Assert.Equal(OrderStatus.Submitted, order.Status);
        Assert.Single(order.History);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unpaid_order_can_be_cancelled_with_a_reason(bool stockReserved)
    {
        var order = NewOrder();
        if (stockReserved)
        {
            order.ReserveStock(Now);
        }

        Assert.True(order.Cancel("Cancelled by the buyer.", Now.AddMinutes(1)));

        Assert.Equal(OrderStatus.Cancelled, order.Status);
        Assert.Equal("Cancelled by the buyer.", order.CancellationReason);
        Assert.Equal("Cancelled by the buyer.", order.History[^1].Reason);
    }

    [Fact]
    public void A_confirmed_order_cannot_be_cancelled_and_late_events_do_not_reopen_it()
    {
        var order = NewOrder();
        order.ReserveStock(Now);
        order.ConfirmPayment(Now);
        var steps = order.History.Count;

        Assert.False(order.Cancel("too late", Now));
        Assert.False(order.ReserveStock(Now));
        Assert.False(order.ConfirmPayment(Now));

        Assert.Equal(OrderStatus.Confirmed, order.Status);
        Assert.Equal(steps, order.History.Count);
    }

    [Fact]
    public void A_cancelled_order_ignores_a_payment_that_raced_with_the_cancellation()
    {
        var order = NewOrder();
        order.ReserveStock(Now);
        order.Cancel("Cancelled by the buyer.", Now);

        Assert.False(order.ConfirmPayment(Now));
        Assert.False(order.Cancel("again", Now));

        Assert.Equal(OrderStatus.Cancelled, order.Status);
        Assert.Equal("Cancelled by the buyer.", order.CancellationReason);
    }

    [Fact]
    public void The_same_cart_hashes_the_same_however_it_is_listed_and_another_cart_differently()
    {
        var hash = OrderPlacement.HashCart([new CartItem(1, 2), new CartItem(4, 1)]);

        Assert.Equal(hash, OrderPlacement.HashCart([new CartItem(4, 1), new CartItem(1, 2)]));
        Assert.NotEqual(hash, OrderPlacement.HashCart([new CartItem(1, 3), new CartItem(4, 1)]));
        Assert.NotEqual(hash, OrderPlacement.HashCart([new CartItem(1, 2)]));
    }

    [Fact]
    public void Quantities_over_the_limit_are_refused_naming_the_item()
    {
        var errors = CartPricing.Validate([new CartItem(1, 1), new CartItem(2, CartPricing.MaxQuantity + 1)], "order");

        Assert.Equal(["items[1].quantity"], errors.Keys);
        Assert.Equal($"Quantity must be between 1 and {CartPricing.MaxQuantity}; got {CartPricing.MaxQuantity + 1}.", Assert.Single(errors["items[1].quantity"]));
    }

    [Fact]
    public void An_empty_order_is_refused_in_words_that_fit_an_order()
    {
        var errors = CartPricing.Validate([], "order");

        Assert.Equal("An order needs at least one item.", Assert.Single(errors["items"]));
    }
}
