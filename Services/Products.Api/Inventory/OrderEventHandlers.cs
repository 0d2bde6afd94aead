using Products.Api.Infrastructure;
using Products.Api.Model;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Products.Api.Inventory;

/// <summary>
/// An order was placed: hold its stock, all of it or none, and tell ordering which it was. The bus runs this once per
/// event (inbox) in the transaction that also writes the answer to the outbox; a second submission of the same order
/// under another event id finds the reservation and changes nothing.
/// </summary>
public sealed partial class OrderSubmittedHandler(InventoryService inventory, ProductsContext db, ProductsMetrics metrics, ILogger<OrderSubmittedHandler> logger)
    : IIntegrationEventHandler<OrderSubmittedIntegrationEvent>
{
    public async Task Handle(OrderSubmittedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);

        var outcome = await inventory.ReserveAsync(@event.OrderId, @event.Lines ?? [], cancellationToken);
        var key = @event.OrderId.ToString();
        switch (outcome)
        {
            case ReservationOutcome.Reserved:
                db.AddIntegrationEvent(new StockReservedIntegrationEvent(@event.OrderId), key);
                metrics.Reservation("reserved");
                break;
            case ReservationOutcome.Rejected rejected:
                db.AddIntegrationEvent(new StockRejectedIntegrationEvent(@event.OrderId, rejected.Lines), key);
                metrics.Reservation("rejected");
                LogRejected(logger, @event.OrderId, rejected.Lines.Count);
                break;
            case ReservationOutcome.AlreadyHandled handled:
                LogAlreadyHandled(logger, @event.OrderId, handled.Status);
                break;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} rejected: {Lines} line(s) cannot be reserved")]
    private static partial void LogRejected(ILogger logger, Guid orderId, int lines);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} was submitted again; its reservation is already {Status}, nothing changed")]
    private static partial void LogAlreadyHandled(ILogger logger, Guid orderId, ReservationStatus status);
}

/// <summary>An order was paid: its reservation becomes a sale (only if it is still reserved).</summary>
public sealed partial class OrderConfirmedHandler(InventoryService inventory, ProductsMetrics metrics, ILogger<OrderConfirmedHandler> logger)
    : IIntegrationEventHandler<OrderConfirmedIntegrationEvent>
{
    public async Task Handle(OrderConfirmedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);

        var status = await inventory.ConfirmAsync(@event.OrderId, cancellationToken);
        if (status == ReservationStatus.Sold)
        {
            metrics.Reservation("sold");
        }
        else
        {
            LogNotReserved(logger, @event.OrderId, status?.ToString() ?? "unknown");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} was confirmed but its reservation is {Status}; stock unchanged")]
    private static partial void LogNotReserved(ILogger logger, Guid orderId, string status);
}

/// <summary>An order was cancelled: units still held for it become available again; anything else stays as it is.</summary>
public sealed partial class OrderCancelledHandler(InventoryService inventory, ProductsMetrics metrics, ILogger<OrderCancelledHandler> logger)
    : IIntegrationEventHandler<OrderCancelledIntegrationEvent>
{
    public async Task Handle(OrderCancelledIntegrationEvent @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);

        var status = await inventory.ReleaseAsync(@event.OrderId, cancellationToken);
        if (status == ReservationStatus.Released)
        {
            metrics.Reservation("released");
        }
        else
        {
            LogNothingToRelease(logger, @event.OrderId, status);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} was cancelled; its reservation is {Status}, nothing to release")]
    private static partial void LogNothingToRelease(ILogger logger, Guid orderId, ReservationStatus status);
}
