using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Ordering.Api.Infrastructure;
using Ordering.Api.IntegrationEvents;
using Ordering.Api.Model;
using Shop.EventBus;
using Shop.IntegrationEvents;
using OrderLine = Ordering.Api.Model.OrderLine;

namespace Ordering.Tests;

/// <summary>
/// What a PaymentSucceeded may do to an order: only the payment of its total, while it awaits payment, pays for it. The
/// tester's forged event (a new payment id, 0.01 for an order of 129.00 whose real charge was pending) confirmed it.
/// </summary>
[Collection(OrderingDatabaseCollection.Name)]
public sealed class PaymentSucceededHandlerTests(OrderingDatabaseFixture database) : OrderingDatabaseTest(database)
{
    [Theory]
    [InlineData("0.01")]
    [InlineData("128.99")]
    [InlineData("129.01")]
    public async Task A_payment_of_another_amount_than_the_total_is_dead_lettered_and_leaves_the_order_awaiting_payment(string amount)
    {
        var orderId = await SeedOrderAsync(reserveStock: true);
        await using var scope = Ordering.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderingContext>();

        var forged = new PaymentSucceededIntegrationEvent(orderId, Guid.NewGuid(), decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture));
        var exception = await Assert.ThrowsAsync<PaymentAmountMismatchException>(() => Handler(db).Handle(forged, CancellationToken.None));

        Assert.IsAssignableFrom<NonRetryableEventException>(exception);
        Assert.Equal(orderId, exception.OrderId);
        Assert.False(db.ChangeTracker.HasChanges());
        await AssertAwaitingPaymentAsync(orderId);
    }

    [Fact]
    public async Task The_payment_of_the_total_confirms_the_order_and_announces_it()
    {
        var orderId = await SeedOrderAsync(reserveStock: true);
        await using var scope = Ordering.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderingContext>();

        await Handler(db).Handle(new PaymentSucceededIntegrationEvent(orderId, Guid.NewGuid(), 129.00m), CancellationToken.None);
        await db.SaveChangesAsync();

        await using var check = Ordering.Services.CreateAsyncScope();
        var stored = check.ServiceProvider.GetRequiredService<OrderingContext>();
        Assert.Equal(OrderStatus.Confirmed, (await stored.Orders.SingleAsync(o => o.Id == orderId)).Status);
        Assert.Equal(nameof(OrderConfirmedIntegrationEvent), Assert.Single(await stored.Set<OutboxMessage>().ToListAsync()).EventType);
    }

    [Fact]
    public async Task A_payment_of_the_total_for_an_order_not_awaiting_payment_changes_nothing()
    {
        var orderId = await SeedOrderAsync(reserveStock: false);
        await using var scope = Ordering.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderingContext>();

        await Handler(db).Handle(new PaymentSucceededIntegrationEvent(orderId, Guid.NewGuid(), 129.00m), CancellationToken.None);

        Assert.False(db.ChangeTracker.HasChanges());
    }

    private static PaymentSucceededHandler Handler(OrderingContext db) =>
        new(db, TimeProvider.System, NullLogger<PaymentSucceededHandler>.Instance);

    /// <summary>An order of 129.00 USD, submitted, and with <paramref name="reserveStock"/> awaiting payment.</summary>
    private Task<Guid> SeedOrderAsync(bool reserveStock) =>
        SeedOrderAsync("buyer-1", (order, now) => Assert.Equal(reserveStock, reserveStock && order.ReserveStock(now)));

    private async Task AssertAwaitingPaymentAsync(Guid orderId)
    {
        await using var scope = Ordering.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderingContext>();
        var order = await db.Orders.Include(o => o.History).SingleAsync(o => o.Id == orderId);
        Assert.Equal(OrderStatus.StockReserved, order.Status);
        Assert.DoesNotContain(order.History, h => h.Status is OrderStatus.Paid or OrderStatus.Confirmed);
        Assert.Empty(await db.Set<OutboxMessage>().ToListAsync());
    }
}
