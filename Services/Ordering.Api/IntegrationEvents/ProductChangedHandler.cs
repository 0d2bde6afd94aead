using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Ordering.Api.IntegrationEvents;

/// <summary>Keeps ordering's read model of the catalog (<see cref="CatalogItem"/>) in step with products.</summary>
public sealed class ProductChangedHandler(OrderingContext db) : IIntegrationEventHandler<ProductChangedIntegrationEvent>
{
    public async Task Handle(ProductChangedIntegrationEvent @event, CancellationToken cancellationToken)
    {
        var item = await db.CatalogItems.FindAsync([@event.ProductId], cancellationToken);
        if (item is null)
        {
            item = new CatalogItem { ProductId = @event.ProductId, Name = "", Brand = "", PictureUrl = "" };
            db.CatalogItems.Add(item);
        }
        else if (item.ChangedAt > @event.CreationDate)
        {
            // A product's events share its key and arrive in order; this guards against a republished old one.
            return;
        }

        item.Name = @event.Name;
        item.Brand = @event.Brand;
        item.PictureUrl = @event.PictureUrl;
        item.Price = @event.Price;
        item.Deleted = @event.Deleted;
        item.ChangedAt = @event.CreationDate;
    }
}
