namespace Shop.Web.Cart;

/// <summary>What a submitted checkout page leads to, given the cart as it is now.</summary>
public abstract record CheckoutDecision
{
    /// <summary>Send the order, with this key, for these lines.</summary>
    public sealed record Place(string IdempotencyKey, IReadOnlyList<CartLine> Lines) : CheckoutDecision;

    /// <summary>This checkout already became an order (a double click, a resubmitted form): show it.</summary>
    public sealed record AlreadyPlaced(Guid OrderId) : CheckoutDecision;

    /// <summary>Nothing left to order.</summary>
    public sealed record EmptyCart : CheckoutDecision;

    /// <summary>The cart is not what the page showed (changed in another tab, or the attempt expired): review it again.</summary>
    public sealed record CartChanged : CheckoutDecision;

    /// <summary>
    /// Decides on a checkout page that showed the cart with <paramref name="fingerprint"/> and carried
    /// <paramref name="idempotencyKey"/>. The key is honoured only while it is the cart's pending attempt for that
    /// very content, so an order is only ever placed for what the shopper saw, and one attempt is one order.
    /// </summary>
    public static CheckoutDecision For(ShoppingCart cart, string? idempotencyKey, string? fingerprint)
    {
        ArgumentNullException.ThrowIfNull(cart);

        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return new CartChanged();
        }

        if (cart.LastOrder is { } placed && placed.IdempotencyKey == idempotencyKey)
        {
            return new AlreadyPlaced(placed.OrderId);
        }

        if (cart.IsEmpty)
        {
            return new EmptyCart();
        }

        var current = cart.Fingerprint();
        return cart.Checkout is { } pending && pending.IdempotencyKey == idempotencyKey && pending.CartFingerprint == current && fingerprint == current
            ? new Place(idempotencyKey, [.. cart.Lines.OrderBy(l => l.ProductId)])
            : new CartChanged();
    }

    /// <summary>A new key: random, and short enough for ordering's limit.</summary>
    public static string NewIdempotencyKey() => "web-" + Guid.NewGuid().ToString("N");
}
