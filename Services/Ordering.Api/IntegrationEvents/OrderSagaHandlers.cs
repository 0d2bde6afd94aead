using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Ordering.Api.IntegrationEvents;

/// <summary>
/// The order saga's reactions to products and payment. Each runs inside the event bus's transaction (inbox record,
/// order change and the next event commit together). An event the order's state no longer allows (a late payment for
/// an order the buyer cancelled) changes nothing: the compensation is already under way.
/// </summary>
public sealed partial class StockReservedHandler(OrderingContext db, TimeProvider timeProvider, ILogger<StockReservedHandler> logger)
    : IIntegrationEventHandler<StockReservedIntegrationEvent>
{
    public async Task Handle(StockReservedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        var order = await db.LoadOrderAsync(@event.OrderId, cancellationToken);
        if (order.ReserveStock(timeProvider.GetUtcNow()))
        {
            db.AddIntegrationEvent(
                new OrderAwaitingPaymentIntegrationEvent(order.Id, order.BuyerId, order.Total, order.Currency),
                order.Id.ToString());
        }
        else
        {
            OrderSaga.Ignored(logger, nameof(StockReservedIntegrationEvent), order.Id, order.Status);
        }
    }
}

public sealed class StockRejectedHandler(OrderingContext db, TimeProvider timeProvider, ILogger<StockRejectedHandler> logger)
    : IIntegrationEventHandler<StockRejectedIntegrationEvent>
{
    public async Task Handle(StockRejectedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        var order = await db.LoadOrderAsync(@event.OrderId, cancellationToken);
        var names = await db.Entry(order).Collection(o => o.Lines).Query().ToDictionaryAsync(l => l.ProductId, l => l.ProductName, cancellationToken);
        var reason = "Not enough stock: " + string.Join("; ", @event.Lines.Select(l => string.Create(CultureInfo.InvariantCulture,
            $"{names.GetValueOrDefault(l.ProductId) ?? $"product {l.ProductId}"} ({l.Requested} requested, {Math.Max(l.Available, 0)} available)")));
        if (!order.CancelFromSaga(db, reason, timeProvider.GetUtcNow()))
        {
            OrderSaga.Ignored(logger, nameof(StockRejectedIntegrationEvent), order.Id, order.Status);
        }
    }
}

public sealed class PaymentSucceededHandler(OrderingContext db, TimeProvider timeProvider, ILogger<PaymentSucceededHandler> logger)
    : IIntegrationEventHandler<PaymentSucceededIntegrationEvent>
{
    public async Task Handle(PaymentSucceededIntegrationEvent @event, CancellationToken cancellationToken)
    {
        // With its lines in the same query: OrderConfirmed carries them.
        var order = await db.Orders.Include(o => o.Lines).SingleOrDefaultAsync(o => o.Id == @event.OrderId, cancellationToken)
            ?? throw new UnknownOrderException(@event.OrderId);
        // Payment charges exactly the amount OrderAwaitingPayment asked for. Any other amount is no race a later state
        // explains (unlike a late payment for a cancelled order): a defect in payment or a message that payment never
        // sent. It must not pay for the order, and must not pass unseen either: it is dead-lettered for an operator.
        if (@event.Amount != order.Total)
        {
            throw new PaymentAmountMismatchException(order.Id, @event.PaymentId, @event.Amount, order.Total, order.Currency);
        }

        if (order.ConfirmPayment(timeProvider.GetUtcNow()))
        {
            var lines = order.Lines.Select(l => new Shop.IntegrationEvents.OrderLine(l.ProductId, l.Quantity, l.UnitPrice)).ToList();
            db.AddIntegrationEvent(new OrderConfirmedIntegrationEvent(order.Id, lines), order.Id.ToString());
        }
        else
        {
            // Cancelled while the charge was under way: payment refunds it on the OrderCancelled it also receives.
            OrderSaga.Ignored(logger, nameof(PaymentSucceededIntegrationEvent), order.Id, order.Status);
        }
    }
}

public sealed class PaymentFailedHandler(OrderingContext db, TimeProvider timeProvider, ILogger<PaymentFailedHandler> logger)
    : IIntegrationEventHandler<PaymentFailedIntegrationEvent>
{
    public async Task Handle(PaymentFailedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        var order = await db.LoadOrderAsync(@event.OrderId, cancellationToken);
        if (!order.CancelFromSaga(db, "Payment failed: " + @event.Reason, timeProvider.GetUtcNow()))
        {
            OrderSaga.Ignored(logger, nameof(PaymentFailedIntegrationEvent), order.Id, order.Status);
        }
    }
}

/// <summary>
/// An event names an order ordering does not have. Orders are committed before their events are published, so no
/// retry can find it: the bus dead-letters it at once.
/// </summary>
public sealed class UnknownOrderException(Guid orderId) : NonRetryableEventException($"Order {orderId} does not exist in ordering.")
{
    public Guid OrderId { get; } = orderId;
}

/// <summary>
/// A payment succeeded for an amount that is not the order's total. No retry changes either amount: the bus
/// dead-letters it at once, and the order stays as it was, awaiting the payment it asked for.
/// </summary>
public sealed class PaymentAmountMismatchException(Guid orderId, Guid paymentId, decimal amount, decimal total, string currency)
    : NonRetryableEventException(string.Create(
        CultureInfo.InvariantCulture,
        $"Payment {paymentId} succeeded for {amount} {currency}, but order {orderId} totals {total} {currency}: the payment does not pay for the order."))
{
    public Guid OrderId { get; } = orderId;

    public Guid PaymentId { get; } = paymentId;
}

internal static partial class OrderSaga
{
    public static async Task<Order> LoadOrderAsync(this OrderingContext db, Guid orderId, CancellationToken cancellationToken) =>
        await db.Orders.SingleOrDefaultAsync(o => o.Id == orderId, cancellationToken) ?? throw new UnknownOrderException(orderId);

    /// <summary>Cancels with <paramref name="reason"/> and tells products (release the stock) and payment (refund a charge).</summary>
    public static bool CancelFromSaga(this Order order, OrderingContext db, string reason, DateTimeOffset now)
    {
        if (!order.Cancel(reason.Length <= OrderingContext.MaxReasonLength ? reason : reason[..OrderingContext.MaxReasonLength], now))
        {
            return false;
        }

        db.AddIntegrationEvent(new OrderCancelledIntegrationEvent(order.Id, order.CancellationReason!), order.Id.ToString());
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{EventType} for order {OrderId} ignored: the order is {Status}")]
    public static partial void Ignored(ILogger logger, string eventType, Guid orderId, OrderStatus status);
}
