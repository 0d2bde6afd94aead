using Shop.EventBus;

namespace LedgerService;

/// <summary>An account's orders travel on one stream, keyed by account, so they are handled in order.</summary>
[IntegrationEventTopic("ledger.orders")]
public record OrderPlacedIntegrationEvent(Guid OrderId, string AccountId, decimal Amount, int Number) : IntegrationEvent;
