using Shop.EventBus;

namespace Shop.IntegrationEvents;

/// <summary>Every line of the order is reserved, atomically.</summary>
[IntegrationEventTopic(Topics.Stock)]
public sealed record StockReservedIntegrationEvent(Guid OrderId) : IntegrationEvent;

/// <summary>A line could not be reserved (unknown product or not enough stock); nothing of the order is reserved.</summary>
[IntegrationEventTopic(Topics.Stock)]
public sealed record StockRejectedIntegrationEvent(Guid OrderId, IReadOnlyList<RejectedLine> Lines) : IntegrationEvent;

public sealed record RejectedLine(int ProductId, int Requested, int Available);

/// <summary>
/// A product was created, changed (details, price or an admin's stock count) or deleted: what other services keep of it (e.g. ordering's
/// read model for order history). Each event carries the whole current state, so a consumer keeps the latest one per
/// product (events of a product are in order: the key is the product id). <paramref name="PictureUrl"/> is relative to
/// the gateway.
/// </summary>
[IntegrationEventTopic(Topics.Catalog)]
public sealed record ProductChangedIntegrationEvent(
    int ProductId, string Name, string Brand, string PictureUrl, decimal Price, bool Deleted, string? Category = null)
    : IntegrationEvent;

/// <summary>A product's price changed (published with the <see cref="ProductChangedIntegrationEvent"/> of the same change).</summary>
[IntegrationEventTopic(Topics.Catalog)]
public sealed record ProductPriceChangedIntegrationEvent(int ProductId, decimal OldPrice, decimal NewPrice) : IntegrationEvent;
