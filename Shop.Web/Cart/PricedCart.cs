using Shop.Web.Services;

namespace Shop.Web.Cart;

/// <summary>What stands between a cart line and an order.</summary>
public enum CartLineProblem
{
    None,

    /// <summary>The product was deleted from the catalog.</summary>
    NoLongerSold,

    OutOfStock,

    /// <summary>Some, but fewer units than the line asks for, can be ordered.</summary>
    NotEnoughStock,
}

public sealed record PricedCartLine(int ProductId, int Quantity, CatalogItem? Product, CartLineProblem Problem)
{
    public decimal? UnitPrice => Product?.Price;

    public decimal LineTotal => Product is null ? 0m : Product.Price * Quantity;

    /// <summary>What the shopper is told about the line's problem, or null when there is none.</summary>
    public string? ProblemMessage => Problem switch
    {
        CartLineProblem.NoLongerSold => "This product is no longer sold. Please remove it from your cart.",
        CartLineProblem.OutOfStock => "Out of stock. Please remove it, or come back later.",
        CartLineProblem.NotEnoughStock => $"Only {Product!.AvailableStock} left. Please lower the quantity.",
        _ => null,
    };
}

/// <summary>
/// A cart priced with the catalog's current entries — never with prices kept in the cart — and checked against
/// today's stock, so every problem is shown before checkout rather than after it.
/// </summary>
public sealed record PricedCart(IReadOnlyList<PricedCartLine> Lines)
{
    public decimal Total => Lines.Sum(l => l.LineTotal);

    public int ItemCount => Lines.Sum(l => l.Quantity);

    public bool HasProblems => Lines.Any(l => l.Problem != CartLineProblem.None);

    public bool CanCheckOut => Lines.Count > 0 && !HasProblems;

    /// <summary>
    /// This cart with the unit prices ordering quoted when it refused an order whose prices had changed, so the page
    /// shows what ordering will charge, and its total is what the next submission expects.
    /// </summary>
    public PricedCart WithPrices(IEnumerable<RepricedLine> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);

        var byProduct = prices.ToDictionary(p => p.ProductId, p => p.UnitPrice);
        return new PricedCart([.. Lines.Select(line => line.Product is { } product && byProduct.TryGetValue(line.ProductId, out var price)
            ? line with { Product = product with { Price = price } }
            : line)]);
    }

    /// <summary>The cart's lines, by product name, with the catalog's entries for them (a product missing from <paramref name="catalog"/> is no longer sold).</summary>
    public static PricedCart Price(ShoppingCart cart, IEnumerable<CatalogItem> catalog)
    {
        ArgumentNullException.ThrowIfNull(cart);
        ArgumentNullException.ThrowIfNull(catalog);

        var products = catalog.ToDictionary(p => p.Id);
        var lines = cart.Lines
            .Select(line =>
            {
                var product = products.GetValueOrDefault(line.ProductId);
                var problem = product switch
                {
                    null => CartLineProblem.NoLongerSold,
                    { AvailableStock: <= 0 } => CartLineProblem.OutOfStock,
                    _ when product.AvailableStock < line.Quantity => CartLineProblem.NotEnoughStock,
                    _ => CartLineProblem.None,
                };
                return new PricedCartLine(line.ProductId, line.Quantity, product, problem);
            })
            .OrderBy(l => l.Product?.Name ?? string.Empty, StringComparer.CurrentCultureIgnoreCase)
            .ThenBy(l => l.ProductId)
            .ToList();
        return new PricedCart(lines);
    }
}
