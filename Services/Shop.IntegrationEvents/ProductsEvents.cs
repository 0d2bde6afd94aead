using Shop.EventBus;

namespace Shop.IntegrationEvents;

/// <summary>Every line of the order is reserved, atomically.</summary>
[IntegrationEventTopic(Topics.Stock)]
public sealed record StockReservedIntegrationEvent(Guid OrderId) : IntegrationEvent;

/// <summary>A line could not be reserved (unknown product or not enough stock); nothing of the order is reserved.</summary>
[IntegrationEventTopic(Topics.Stock)]
public sealed record StockRejectedIntegrationEvent(Guid OrderId, IReadOnlyList<RejectedLine> Lines) : IntegrationEvent;

public sealed record RejectedLine(int ProductId, int Requested, int Available);

/// <summary>A product was created, changed or deleted: what other services keep of it (e.g. ordering's read model).</summary>
[IntegrationEventTopic(Topics.Catalog)]
public sealed record ProductChangedIntegrationEvent(int ProductId, string Name, string Brand, string PictureUrl, decimal Price, bool Deleted) : IntegrationEvent;

/// <summary>A product's price changed.</summary>
[IntegrationEventTopic(Topics.Catalog)]
public sealed record ProductPriceChangedIntegrationEvent(int ProductId, decimal OldPrice, decimal NewPrice) : IntegrationEvent;
