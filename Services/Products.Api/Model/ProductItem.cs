namespace Products.Api.Model;

/// <summary>A product as the API shows it.</summary>
public sealed record ProductItem(
    int Id,
    string Name,
    string Description,
    decimal Price,
    string Brand,
    string Category,
    string PictureFileName,
    int AvailableStock);
