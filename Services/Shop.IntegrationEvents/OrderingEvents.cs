using Shop.EventBus;

namespace Shop.IntegrationEvents;

/// <summary>One line of an order, priced by ordering from the catalog when the order was placed.</summary>
public sealed record OrderLine(int ProductId, int Quantity, decimal UnitPrice);

/// <summary>A signed-in buyer placed an order; products reserves its stock.</summary>
[IntegrationEventTopic(Topics.Orders)]
public sealed record OrderSubmittedIntegrationEvent(Guid OrderId, string BuyerId, IReadOnlyList<OrderLine> Lines, decimal Total) : IntegrationEvent;

/// <summary>Stock is reserved: payment charges the buyer.</summary>
[IntegrationEventTopic(Topics.Orders)]
public sealed record OrderAwaitingPaymentIntegrationEvent(Guid OrderId, string BuyerId, decimal Amount, string Currency) : IntegrationEvent;

/// <summary>Paid: products turns the reservation into a sale.</summary>
[IntegrationEventTopic(Topics.Orders)]
public sealed record OrderConfirmedIntegrationEvent(Guid OrderId, IReadOnlyList<OrderLine> Lines) : IntegrationEvent;

/// <summary>Cancelled (stock rejected, payment declined, or the buyer cancelled): products releases the reservation, payment refunds a charge.</summary>
[IntegrationEventTopic(Topics.Orders)]
public sealed record OrderCancelledIntegrationEvent(Guid OrderId, string Reason) : IntegrationEvent;
