using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Payment.Api.Infrastructure;
using Payment.Api.Model;
using Payment.Api.Processing;
using Payment.Api.Telemetry;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Payment.Api.IntegrationEvents;

/// <summary>
/// Stock is reserved: record the order's charge as pending, for the <see cref="PaymentProcessor"/> to send once this
/// transaction commits. The gateway is not called here: a slow or failing gateway must not hold up the consumer, and
/// the charge must outlive this process. An order has one charge, however often the event comes.
/// </summary>
public sealed partial class OrderAwaitingPaymentHandler(
    PaymentContext db,
    IOptions<PaymentOptions> options,
    TimeProvider timeProvider,
    ILogger<OrderAwaitingPaymentHandler> logger) : IIntegrationEventHandler<OrderAwaitingPaymentIntegrationEvent>
{
    public async Task Handle(OrderAwaitingPaymentIntegrationEvent @event, CancellationToken cancellationToken)
    {
        if (@event.Amount <= 0 || @event.Currency is not { Length: 3 } || string.IsNullOrWhiteSpace(@event.BuyerId))
        {
            throw new InvalidOperationException(
                $"Order {@event.OrderId} cannot be charged: amount {@event.Amount} {@event.Currency} for buyer '{@event.BuyerId}' is not a valid charge.");
        }

        if (await db.Payments.AnyAsync(p => p.OrderId == @event.OrderId && p.Kind == PaymentKind.Charge, cancellationToken))
        {
            LogAlreadyRequested(logger, @event.OrderId);
            return;
        }

        var now = timeProvider.GetUtcNow();
        db.Payments.Add(new PaymentRecord
        {
            Id = Guid.CreateVersion7(now),
            OrderId = @event.OrderId,
            BuyerId = @event.BuyerId,
            Kind = PaymentKind.Charge,
            Status = PaymentStatus.Pending,
            Amount = @event.Amount,
            Currency = @event.Currency,
            IdempotencyKey = PaymentRecord.ChargeKey(@event.OrderId),
            NextAttemptAt = now,
            Deadline = now + options.Value.ChargeDeadline,
            TraceParent = Activity.Current?.Id,
            CreatedAt = now,
        });
        PaymentWorkSignal.Mark(db);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} already has its charge; the repeated request changes nothing")]
    private static partial void LogAlreadyRequested(ILogger logger, Guid orderId);
}

/// <summary>
/// The order was cancelled: a charge never sent is cancelled; one that went through is refunded; one that may be
/// under way at the gateway is marked so the processor refunds it if it went through. Locks the charge's row, so it
/// waits for a gateway call in progress to be recorded first.
/// </summary>
public sealed class OrderCancelledHandler(PaymentContext db, PaymentTelemetry telemetry, TimeProvider timeProvider)
    : IIntegrationEventHandler<OrderCancelledIntegrationEvent>
{
    public async Task Handle(OrderCancelledIntegrationEvent @event, CancellationToken cancellationToken)
    {
        var charge = await db.Payments
            .FromSql($"""SELECT * FROM "Payments" WHERE "OrderId" = {@event.OrderId} AND "Kind" = 'Charge' FOR UPDATE""")
            .SingleOrDefaultAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        switch (charge)
        {
            case null:
                // Cancelled before stock was reserved: payment was never asked to charge it.
                return;
            case { Status: PaymentStatus.Pending, Attempts: 0 }:
                charge.Status = PaymentStatus.Cancelled;
                charge.CompletedAt = now;
                telemetry.Settled(nameof(PaymentKind.Charge), nameof(PaymentStatus.Cancelled));
                return;
            case { Status: PaymentStatus.Pending }:
                charge.CancelRequested = true;
                return;
            case { Status: PaymentStatus.Succeeded }:
                if (!await db.Payments.AnyAsync(p => p.OrderId == @event.OrderId && p.Kind == PaymentKind.Refund, cancellationToken))
                {
                    PaymentProcessor.RequestRefund(db, charge, now);
                }

                return;
        }
    }
}
