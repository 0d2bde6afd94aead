namespace Ordering.Api.Model;

/// <summary>
/// Ordering's own copy of what it shows about a product (name, brand, picture, current price), kept up to date from
/// products' <c>ProductChangedIntegrationEvent</c>s, so listing orders never calls the products service.
/// </summary>
public class CatalogItem
{
    public int ProductId { get; set; }

    public required string Name { get; set; }

    public required string Brand { get; set; }

    public required string PictureUrl { get; set; }

    public decimal Price { get; set; }

    public bool Deleted { get; set; }

    /// <summary>When products published the change this row reflects; an older event arriving late is ignored.</summary>
    public DateTimeOffset ChangedAt { get; set; }
}
