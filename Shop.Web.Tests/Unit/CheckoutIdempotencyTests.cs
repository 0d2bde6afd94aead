using Shop.Web.Cart;

namespace Shop.Web.Tests.Unit;

/// <summary>How one checkout attempt keeps one Idempotency-Key, and what a submitted checkout page leads to.</summary>
public class CheckoutIdempotencyTests
{
    private static readonly ShoppingCart Cart = new([new CartLine(4, 1), new CartLine(2, 3)]);

    private static string KeyFactory(List<string> issued)
    {
        var key = CheckoutDecision.NewIdempotencyKey();
        issued.Add(key);
        return key;
    }

    [Fact]
    public void Opening_checkout_again_for_the_same_cart_reuses_the_attempts_key()
    {
        List<string> issued = [];

        var first = Cart.BeginCheckout(() => KeyFactory(issued));
        var again = first.BeginCheckout(() => KeyFactory(issued));

        Assert.Single(issued);
        Assert.Same(first, again);
        Assert.Equal(issued[0], again.Checkout!.IdempotencyKey);
        Assert.Equal(Cart.Fingerprint(), again.Checkout.CartFingerprint);
    }

    [Fact]
    public void Any_change_to_the_lines_ends_the_attempt_so_the_next_checkout_gets_a_new_key()
    {
        var begun = Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey);

        foreach (var changed in new[] { begun.Add(2, 1).Cart, begun.SetQuantity(4, 2).Cart, begun.Remove(4), begun.Add(9, 1).Cart })
        {
            Assert.Null(changed.Checkout);
            Assert.NotEqual(begun.Checkout!.IdempotencyKey, changed.BeginCheckout(CheckoutDecision.NewIdempotencyKey).Checkout!.IdempotencyKey);
        }
    }

    [Fact]
    public void Keys_are_unique_and_within_orderings_limit()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => CheckoutDecision.NewIdempotencyKey()).ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(keys, k => Assert.InRange(k.Length, 1, 100));
    }

    [Fact]
    public void A_submitted_page_whose_key_is_the_carts_attempt_places_the_order_with_that_key_and_lines_in_id_order()
    {
        var begun = Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey);

        var decision = CheckoutDecision.For(begun, begun.Checkout!.IdempotencyKey, begun.Fingerprint(), "10.00");

        var place = Assert.IsType<CheckoutDecision.Place>(decision);
        Assert.Equal(begun.Checkout.IdempotencyKey, place.IdempotencyKey);
        Assert.Equal([new CartLine(2, 3), new CartLine(4, 1)], place.Lines);
    }

    [Fact]
    public void The_same_submission_twice_before_the_order_is_recorded_sends_the_same_key_twice()
    {
        var begun = Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey);
        var (key, fingerprint) = (begun.Checkout!.IdempotencyKey, begun.Fingerprint());

        var first = Assert.IsType<CheckoutDecision.Place>(CheckoutDecision.For(begun, key, fingerprint, "10.00"));
        var second = Assert.IsType<CheckoutDecision.Place>(CheckoutDecision.For(begun, key, fingerprint, "10.00"));

        Assert.Equal(first.IdempotencyKey, second.IdempotencyKey);
    }

    [Fact]
    public void Once_the_order_is_accepted_its_units_leave_the_cart_and_a_repeated_submission_finds_that_order()
    {
        var begun = Cart.Add(8, 2).Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey);
        var key = begun.Checkout!.IdempotencyKey;
        var place = Assert.IsType<CheckoutDecision.Place>(CheckoutDecision.For(begun, key, begun.Fingerprint(), "10.00"));
        var orderId = Guid.NewGuid();
        // Something added in another tab while the order was being placed.
        var meanwhile = begun.Add(11, 1).Cart;

        var completed = meanwhile.CompleteCheckout(key, orderId, place.Lines);

        Assert.Equal([new CartLine(11, 1)], completed.Lines);
        Assert.Null(completed.Checkout);
        Assert.Equal(new PlacedOrder(key, orderId), completed.LastOrder);
        Assert.Equal(new CheckoutDecision.AlreadyPlaced(orderId), CheckoutDecision.For(completed, key, begun.Fingerprint(), "10.00"));
    }

    [Fact]
    public void Completing_the_same_attempt_twice_takes_its_units_out_once()
    {
        var cart = new ShoppingCart([new CartLine(1, 5)]).BeginCheckout(CheckoutDecision.NewIdempotencyKey);
        var key = cart.Checkout!.IdempotencyKey;
        var orderId = Guid.NewGuid();
        CartLine[] ordered = [new CartLine(1, 2)];

        var once = cart.CompleteCheckout(key, orderId, ordered);
        var twice = once.CompleteCheckout(key, orderId, ordered);

        Assert.Same(once, twice);
        Assert.Equal([new CartLine(1, 3)], twice.Lines);
    }

    [Fact]
    public void A_page_submitted_for_other_content_or_with_an_unknown_key_places_nothing()
    {
        var begun = Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey);
        var key = begun.Checkout!.IdempotencyKey;
        var changed = begun.Add(4, 1).Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey);

        Assert.IsType<CheckoutDecision.CartChanged>(CheckoutDecision.For(changed, key, begun.Fingerprint(), "10.00"));
        Assert.IsType<CheckoutDecision.CartChanged>(CheckoutDecision.For(begun, "web-made-up", begun.Fingerprint(), "10.00"));
        Assert.IsType<CheckoutDecision.CartChanged>(CheckoutDecision.For(begun, key, "another-fingerprint", "10.00"));
        Assert.IsType<CheckoutDecision.CartChanged>(CheckoutDecision.For(begun, null, null, "10.00"));
        Assert.IsType<CheckoutDecision.CartChanged>(CheckoutDecision.For(Cart, key, Cart.Fingerprint(), "10.00"));
        Assert.IsType<CheckoutDecision.EmptyCart>(CheckoutDecision.For(ShoppingCart.Empty, key, begun.Fingerprint(), "10.00"));
    }
}
