using Shop.EventBus;

namespace LedgerService;

/// <summary>Credits the account: a second run for the same event would credit it twice.</summary>
public sealed class OrderPlacedHandler(LedgerContext db, LedgerProbe probe) : IIntegrationEventHandler<OrderPlacedIntegrationEvent>
{
    public async Task Handle(OrderPlacedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        await probe.HandlingAsync(nameof(OrderPlacedHandler), @event, cancellationToken);
        var account = await db.Accounts.FindAsync([@event.AccountId], cancellationToken)
            ?? db.Accounts.Add(new Account { Id = @event.AccountId }).Entity;
        db.Receipts.Add(new Receipt
        {
            EventId = @event.Id,
            Handler = nameof(OrderPlacedHandler),
            Consumer = probe.Name,
            AccountId = @event.AccountId,
            Number = @event.Number,
            PreviousNumber = account.LastNumber,
        });
        account.Balance += @event.Amount;
        account.Deposits++;
        account.LastNumber = @event.Number;
    }
}

/// <summary>A second handler of the same event, with its own inbox record.</summary>
public sealed class OrderAuditHandler(LedgerContext db, LedgerProbe probe) : IIntegrationEventHandler<OrderPlacedIntegrationEvent>
{
    public async Task Handle(OrderPlacedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        await probe.HandlingAsync(nameof(OrderAuditHandler), @event, cancellationToken);
        db.Receipts.Add(new Receipt
        {
            EventId = @event.Id,
            Handler = nameof(OrderAuditHandler),
            Consumer = probe.ConsumerName(@event.Id, nameof(OrderAuditHandler)),
            AccountId = @event.AccountId,
            Number = @event.Number,
        });
    }
}
