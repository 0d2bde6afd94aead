using System.Globalization;

namespace Shop.Web.Cart;

/// <summary>What a submitted checkout page leads to, given the cart as it is now.</summary>
public abstract record CheckoutDecision
{
    /// <summary>Send the order, with this key, for these lines, at the total the page showed.</summary>
    public sealed record Place(string IdempotencyKey, IReadOnlyList<CartLine> Lines, decimal ShownTotal) : CheckoutDecision;

    /// <summary>This checkout already became an order (a double click, a resubmitted form): show it.</summary>
    public sealed record AlreadyPlaced(Guid OrderId) : CheckoutDecision;

    /// <summary>Nothing left to order.</summary>
    public sealed record EmptyCart : CheckoutDecision;

    /// <summary>The cart is not what the page showed (changed in another tab, or the attempt expired): review it again.</summary>
    public sealed record CartChanged : CheckoutDecision;

    /// <summary>
    /// The cart is what the page showed, but the page carried no total to order at (rendered before totals were sent,
    /// or its field empty or malformed): the shopper reviews the total, and the page shown again carries it.
    /// </summary>
    public sealed record TotalUnknown : CheckoutDecision;

    /// <summary>
    /// Decides on a checkout page that showed the cart with <paramref name="fingerprint"/> at
    /// <paramref name="shownTotal"/> and carried <paramref name="idempotencyKey"/>. The key is honoured only while it
    /// is the cart's pending attempt for that very content, so an order is only ever placed for what the shopper saw,
    /// and one attempt is one order. The shown total goes with the order, so ordering refuses it if prices have
    /// changed since; a page without one (rendered before totals were sent) is shown again for its total to be reviewed.
    /// </summary>
    /// <remarks>
    /// The fingerprint, and with it the key, covers the content only, not the prices: a price change must not start a
    /// new attempt, or a checkout whose first try placed its order unseen (a timeout) could place a second one.
    /// </remarks>
    public static CheckoutDecision For(ShoppingCart cart, string? idempotencyKey, string? fingerprint, string? shownTotal)
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
        if (cart.Checkout is not { } pending || pending.IdempotencyKey != idempotencyKey || pending.CartFingerprint != current || fingerprint != current)
        {
            return new CartChanged();
        }

        return ReadTotal(shownTotal) is { } total
            ? new Place(idempotencyKey, [.. cart.Lines.OrderBy(l => l.ProductId)], total)
            : new TotalUnknown();
    }

    /// <summary>The page's total as <see cref="FormatTotal"/> wrote it.</summary>
    private static decimal? ReadTotal(string? value) =>
        decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var total) ? total : null;

    /// <summary>A total as the checkout page carries it in its form, whatever the shopper's culture.</summary>
    public static string FormatTotal(decimal total) => total.ToString(CultureInfo.InvariantCulture);

    /// <summary>A new key: random, and short enough for ordering's limit.</summary>
    public static string NewIdempotencyKey() => "web-" + Guid.NewGuid().ToString("N");
}
