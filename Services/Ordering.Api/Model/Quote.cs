namespace Ordering.Api.Model;

/// <summary>One product and how many of it, as a client puts it in a cart.</summary>
public sealed record CartItem(int ProductId, int Quantity);

public sealed record QuoteRequest(IReadOnlyList<CartItem>? Items);

public sealed record Quote(IReadOnlyList<QuoteLine> Lines, decimal Total);

public sealed record QuoteLine(int ProductId, string ProductName, decimal UnitPrice, int Quantity, decimal LineTotal);

/// <summary>A product as the products service returns it; only the fields ordering reads.</summary>
public sealed record CatalogProduct(int Id, string Name, decimal Price, int AvailableStock, string? PictureUrl = null);
