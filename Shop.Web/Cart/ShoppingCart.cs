using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Shop.Web.Cart;

public sealed record CartLine(int ProductId, int Quantity);

/// <summary>
/// The checkout attempt under way for the cart's current content: the <c>Idempotency-Key</c> every try of it sends,
/// so a double click, a retried request or a reloaded page never places a second order.
/// </summary>
public sealed record PendingCheckout(string IdempotencyKey, string CartFingerprint);

/// <summary>The last order the cart was checked out as, so a repeated submission of that checkout finds its order.</summary>
public sealed record PlacedOrder(string IdempotencyKey, Guid OrderId);

/// <summary>Why the cart refused a change.</summary>
public enum CartRefusal
{
    None,
    TooManyLines,

    /// <summary>A quantity below zero: a mistyped number, not a wish to remove the line (zero or Remove does that).</summary>
    NegativeQuantity,
}

/// <summary>A change to a cart: the cart after it, why it was refused, and whether a quantity was capped at <see cref="ShoppingCart.MaxQuantity"/>.</summary>
public sealed record CartEdit(ShoppingCart Cart, CartRefusal Refusal = CartRefusal.None, bool Capped = false);

/// <summary>A visitor's cart merged into a user's at sign-in: the user's cart after it, and the visitor's lines it had no room for.</summary>
public sealed record CartMerge(ShoppingCart Cart, IReadOnlyList<CartLine> LeftOut);

/// <summary>
/// A shopper's cart: product ids and quantities (prices always come from the catalog), the checkout attempt of its
/// current content, and the order it last became. Immutable: every change returns a new cart, which the store
/// writes only if nobody changed the stored one meanwhile. Changing the lines ends the checkout attempt: it was for
/// other content, so the next checkout gets a new key.
/// </summary>
public sealed record ShoppingCart(IReadOnlyList<CartLine> Lines, PendingCheckout? Checkout = null, PlacedOrder? LastOrder = null)
{
    /// <summary>Ordering takes at most this many lines per order (and the catalog prices at most this many ids at once).</summary>
    public const int MaxLines = 100;

    /// <summary>Ordering takes at most this many units per line.</summary>
    public const int MaxQuantity = 1000;

    public static readonly ShoppingCart Empty = new([]);

    public int ItemCount => Lines.Sum(l => l.Quantity);

    public bool IsEmpty => Lines.Count == 0;

    public int QuantityOf(int productId) => Lines.FirstOrDefault(l => l.ProductId == productId)?.Quantity ?? 0;

    /// <summary>Adds <paramref name="quantity"/> units; a line never goes past <see cref="MaxQuantity"/>.</summary>
    public CartEdit Add(int productId, int quantity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(productId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);

        var existing = QuantityOf(productId);
        if (existing == 0 && Lines.Count >= MaxLines)
        {
            return new CartEdit(this, CartRefusal.TooManyLines);
        }

        return new CartEdit(WithQuantity(productId, (int)Math.Min((long)existing + quantity, MaxQuantity)));
    }

    /// <summary>
    /// Sets a line's quantity: zero removes it; a negative one is refused, the cart unchanged; more than
    /// <see cref="MaxQuantity"/> is capped, and the edit says so. The page tells the shopper about either.
    /// </summary>
    public CartEdit SetQuantity(int productId, int quantity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(productId);

        if (quantity < 0)
        {
            return new CartEdit(this, CartRefusal.NegativeQuantity);
        }

        if (quantity > 0 && QuantityOf(productId) == 0 && Lines.Count >= MaxLines)
        {
            return new CartEdit(this, CartRefusal.TooManyLines);
        }

        return new CartEdit(WithQuantity(productId, Math.Min(quantity, MaxQuantity)), Capped: quantity > MaxQuantity);
    }

    public ShoppingCart Remove(int productId) => WithQuantity(productId, 0);

    /// <summary>
    /// This (signed-in) cart with a visitor's cart added to it at sign-in: quantities of the same product add up
    /// (capped); the visitor's other lines follow while there is room, and those that found none are returned, so the
    /// shopper is told rather than finding them silently gone.
    /// </summary>
    public CartMerge MergedWith(ShoppingCart visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);

        var merged = this;
        List<CartLine> leftOut = [];
        foreach (var line in visitor.Lines)
        {
            var edit = merged.Add(line.ProductId, line.Quantity);
            if (edit.Refusal == CartRefusal.TooManyLines)
            {
                leftOut.Add(line);
            }

            merged = edit.Cart;
        }

        return new CartMerge(merged, leftOut);
    }

    /// <summary>
    /// Identifies the cart's content (not its order of lines): a checkout attempt belongs to one content, and a
    /// checkout page submitted for other content is refused.
    /// </summary>
    public string Fingerprint()
    {
        var content = string.Join(';', Lines.OrderBy(l => l.ProductId).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.ProductId}x{l.Quantity}")));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)))[..32];
    }

    /// <summary>
    /// The checkout attempt for the current content: the pending one when it is for this content, else a new one
    /// with <paramref name="newKey"/> (called only when it is needed).
    /// </summary>
    public ShoppingCart BeginCheckout(Func<string> newKey)
    {
        ArgumentNullException.ThrowIfNull(newKey);

        var fingerprint = Fingerprint();
        return Checkout?.CartFingerprint == fingerprint ? this : this with { Checkout = new PendingCheckout(newKey(), fingerprint) };
    }

    /// <summary>
    /// The order placed with <paramref name="idempotencyKey"/> was accepted: its units leave the cart (anything added
    /// since stays), and the attempt ends. Completing the same key again changes nothing, however often a
    /// submission is repeated.
    /// </summary>
    public ShoppingCart CompleteCheckout(string idempotencyKey, Guid orderId, IEnumerable<CartLine> ordered)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentNullException.ThrowIfNull(ordered);

        if (LastOrder?.IdempotencyKey == idempotencyKey)
        {
            return this;
        }

        var remaining = Lines.ToDictionary(l => l.ProductId, l => l.Quantity);
        foreach (var line in ordered)
        {
            if (remaining.TryGetValue(line.ProductId, out var quantity))
            {
                remaining[line.ProductId] = quantity - line.Quantity;
            }
        }

        return new ShoppingCart(
            [.. Lines.Where(l => remaining[l.ProductId] > 0).Select(l => l with { Quantity = remaining[l.ProductId] })],
            Checkout: null,
            LastOrder: new PlacedOrder(idempotencyKey, orderId));
    }

    private ShoppingCart WithQuantity(int productId, int quantity)
    {
        var index = Lines.ToList().FindIndex(l => l.ProductId == productId);
        if (index >= 0 && Lines[index].Quantity == quantity)
        {
            return this;
        }

        List<CartLine> lines = [.. Lines];
        if (index < 0)
        {
            if (quantity == 0)
            {
                return this;
            }

            lines.Add(new CartLine(productId, quantity));
        }
        else if (quantity == 0)
        {
            lines.RemoveAt(index);
        }
        else
        {
            lines[index] = new CartLine(productId, quantity);
        }

        return this with { Lines = lines, Checkout = null };
    }
}
