using Shop.Web.Cart;

namespace Shop.Web.Tests.Unit;

public class ShoppingCartTests
{
    private static ShoppingCart CartOf(params (int ProductId, int Quantity)[] lines) =>
        new([.. lines.Select(l => new CartLine(l.ProductId, l.Quantity))]);

    private static (int, int)[] LinesOf(ShoppingCart cart) => [.. cart.Lines.OrderBy(l => l.ProductId).Select(l => (l.ProductId, l.Quantity))];

    [Fact]
    public void Adding_a_product_twice_adds_up_its_quantity_in_one_line()
    {
        var cart = ShoppingCart.Empty.Add(7, 2).Cart.Add(3, 1).Cart.Add(7, 3).Cart;

        Assert.Equal([(3, 1), (7, 5)], LinesOf(cart));
        Assert.Equal(6, cart.ItemCount);
    }

    [Fact]
    public void A_line_never_holds_more_than_ordering_accepts()
    {
        var cart = ShoppingCart.Empty.Add(1, ShoppingCart.MaxQuantity - 1).Cart.Add(1, 5).Cart;

        Assert.Equal(ShoppingCart.MaxQuantity, cart.QuantityOf(1));
        Assert.Equal(ShoppingCart.MaxQuantity, ShoppingCart.Empty.SetQuantity(1, int.MaxValue).Cart.QuantityOf(1));
    }

    [Fact]
    public void A_cart_refuses_more_lines_than_one_order_can_have_but_still_takes_more_of_what_it_holds()
    {
        var full = CartOf([.. Enumerable.Range(1, ShoppingCart.MaxLines).Select(id => (id, 1))]);

        var refused = full.Add(ShoppingCart.MaxLines + 1, 1);
        var more = full.Add(1, 1);

        Assert.Equal(CartRefusal.TooManyLines, refused.Refusal);
        Assert.Same(full, refused.Cart);
        Assert.Equal(CartRefusal.None, more.Refusal);
        Assert.Equal(2, more.Cart.QuantityOf(1));
    }

    [Fact]
    public void Setting_a_quantity_to_zero_or_removing_drops_the_line()
    {
        var cart = CartOf((1, 2), (2, 4));

        Assert.Equal([(2, 4)], LinesOf(cart.SetQuantity(1, 0).Cart));
        Assert.Equal([(1, 2)], LinesOf(cart.Remove(2)));
        Assert.Equal([(1, 2), (2, 9)], LinesOf(cart.SetQuantity(2, 9).Cart));
    }

    [Fact]
    public void Signing_in_merges_the_visitors_cart_into_the_users_adding_up_shared_products()
    {
        var user = CartOf((1, 1), (2, 2));
        var visitor = CartOf((2, 3), (5, 1));

        Assert.Equal([(1, 1), (2, 5), (5, 1)], LinesOf(user.MergedWith(visitor).Cart));
        Assert.Equal([(2, 3), (5, 1)], LinesOf(ShoppingCart.Empty.MergedWith(visitor).Cart));
        Assert.Same(user, user.MergedWith(ShoppingCart.Empty).Cart);
        Assert.Empty(user.MergedWith(visitor).LeftOut);
    }

    [Fact]
    public void A_merge_names_the_visitors_lines_the_full_cart_had_no_room_for_and_still_adds_to_lines_it_holds()
    {
        var user = CartOf([.. Enumerable.Range(1, ShoppingCart.MaxLines - 1).Select(id => (id, 1))]);
        var visitor = CartOf((1, 2), (501, 1), (502, 4), (503, 1));

        var merge = user.MergedWith(visitor);

        Assert.Equal(ShoppingCart.MaxLines, merge.Cart.Lines.Count);
        Assert.Equal(3, merge.Cart.QuantityOf(1));
        Assert.Equal(1, merge.Cart.QuantityOf(501));
        Assert.Equal([new CartLine(502, 4), new CartLine(503, 1)], merge.LeftOut);
    }

    [Fact]
    public void The_fingerprint_names_the_content_not_the_order_of_lines()
    {
        Assert.Equal(CartOf((1, 2), (3, 4)).Fingerprint(), CartOf((3, 4), (1, 2)).Fingerprint());
        Assert.NotEqual(CartOf((1, 2), (3, 4)).Fingerprint(), CartOf((1, 2), (3, 5)).Fingerprint());
        Assert.NotEqual(CartOf((1, 2)).Fingerprint(), CartOf((1, 2), (3, 1)).Fingerprint());
    }

    [Fact]
    public void An_unchanged_cart_is_the_same_cart()
    {
        var cart = CartOf((1, 2));

        Assert.Same(cart, cart.SetQuantity(1, 2).Cart);
        Assert.Same(cart, cart.Remove(9));
    }

    [Fact]
    public void A_negative_quantity_is_refused_and_leaves_the_line_as_it_was()
    {
        var cart = CartOf((1, 2), (2, 4));

        var edit = cart.SetQuantity(1, -5);

        Assert.Equal(CartRefusal.NegativeQuantity, edit.Refusal);
        Assert.Equal([(1, 2), (2, 4)], LinesOf(edit.Cart));
    }

    [Fact]
    public void A_quantity_past_the_limit_is_capped_and_the_edit_says_so()
    {
        var cart = CartOf((1, 2));

        var capped = cart.SetQuantity(1, 100_000);
        var within = cart.SetQuantity(1, ShoppingCart.MaxQuantity);

        Assert.Equal(ShoppingCart.MaxQuantity, capped.Cart.QuantityOf(1));
        Assert.True(capped.Capped);
        Assert.False(within.Capped);
    }
}
