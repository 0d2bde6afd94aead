using System.ComponentModel;

namespace Products.Api.Model;

/// <summary>A product as the catalog shows it.</summary>
/// <param name="PictureFileName">The picture's file name, kept for older clients; <paramref name="PictureUrl"/> is where it is served.</param>
/// <param name="AvailableStock">Units that can be ordered now (not counting units reserved for unpaid orders).</param>
/// <param name="PictureUrl">The picture, relative to the gateway (SVG, cacheable).</param>
[ImmutableObject(true)]
public sealed record ProductItem(
    int Id,
    string Name,
    string Description,
    decimal Price,
    string Brand,
    string Category,
    string PictureFileName,
    int AvailableStock,
    int BrandId,
    int CategoryId,
    string PictureUrl)
{
    public static string PictureUrlOf(int productId) => $"/api/products/items/{productId}/pic";

    public static string PictureFileNameOf(int productId) => $"{productId}.svg";
}

/// <summary>A brand or a category, for the catalog's filters.</summary>
[ImmutableObject(true)]
public sealed record CatalogFacet(int Id, string Name);

/// <summary>A product's stock as admins see it.</summary>
/// <param name="AvailableStock">Units that can be ordered.</param>
/// <param name="ReservedStock">Units held for orders awaiting payment.</param>
/// <param name="OnHand">Units in the warehouse: available plus reserved (a long, so that the sum cannot overflow).</param>
public sealed record StockLevel(int ProductId, int AvailableStock, int ReservedStock, long OnHand);

/// <summary>What inventory did for one order.</summary>
public sealed record ReservationView(Guid OrderId, string Status, IReadOnlyList<ReservationLineView> Lines, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ReservationLineView(int ProductId, int Quantity);
