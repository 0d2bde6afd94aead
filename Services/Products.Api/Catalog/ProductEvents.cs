using Products.Api.Model;
using Shop.IntegrationEvents;

namespace Products.Api.Catalog;

/// <summary>The catalog's integration events, keyed by product id so that a product's events stay in order.</summary>
public static class ProductEvents
{
    /// <summary>The product's current state; its brand and category must be loaded.</summary>
    public static ProductChangedIntegrationEvent Changed(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return new ProductChangedIntegrationEvent(
            product.Id,
            product.Name,
            product.Brand.Name,
            ProductItem.PictureUrlOf(product.Id),
            product.Price,
            product.IsDeleted,
            product.Category.Name);
    }

    public static string Key(Product product)
    {
        ArgumentNullException.ThrowIfNull(product);
        return product.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
