using Shop.EventBus;

namespace Shop.IntegrationEvents;

[IntegrationEventTopic(Topics.Payments)]
public sealed record PaymentSucceededIntegrationEvent(Guid OrderId, Guid PaymentId, decimal Amount) : IntegrationEvent;

/// <summary>Declined by the payment gateway, or given up after retries.</summary>
[IntegrationEventTopic(Topics.Payments)]
public sealed record PaymentFailedIntegrationEvent(Guid OrderId, string Reason) : IntegrationEvent;

[IntegrationEventTopic(Topics.Payments)]
public sealed record PaymentRefundedIntegrationEvent(Guid OrderId, Guid PaymentId, decimal Amount) : IntegrationEvent;
