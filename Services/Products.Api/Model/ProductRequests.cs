namespace Products.Api.Model;

/// <summary>A new product (admin).</summary>
/// <param name="AvailableStock">Units in stock to start with; 0 when left out.</param>
public sealed record CreateProductRequest(string? Name, string? Description, decimal? Price, int? BrandId, int? CategoryId, int? AvailableStock);

/// <summary>A product's new details (admin); stock changes through the stock endpoint.</summary>
public sealed record UpdateProductRequest(string? Name, string? Description, decimal? Price, int? BrandId, int? CategoryId);

/// <summary>
/// A stock change (admin): either the new number of available units (a count), or a number of units to add or,
/// when negative, to take away (a delivery or a write-off, safe beside orders reserving at the same time).
/// </summary>
public sealed record StockChangeRequest(int? AvailableStock, int? AdjustBy);
