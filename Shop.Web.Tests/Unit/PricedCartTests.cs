using Shop.Web.Cart;
using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

public class PricedCartTests
{
    private static CatalogItem Product(int id, decimal price, int stock, string name) => new(id, name, "", price, "Brand", "Category", stock, 1, 1);

    [Fact]
    public void The_total_is_priced_with_the_catalogs_current_prices()
    {
        var cart = new ShoppingCart([new CartLine(1, 2), new CartLine(2, 3)]);

        var priced = PricedCart.Price(cart, [Product(1, 10.25m, 50, "Lamp"), Product(2, 1.50m, 50, "Bulb")]);

        Assert.Equal(25m, priced.Total);
        Assert.Equal(5, priced.ItemCount);
        Assert.True(priced.CanCheckOut);
        Assert.Equal(["Bulb", "Lamp"], priced.Lines.Select(l => l.Product!.Name));
        Assert.Equal([4.50m, 20.50m], priced.Lines.Select(l => l.LineTotal));
    }

    [Fact]
    public void Lines_that_cannot_be_ordered_are_named_and_stop_checkout()
    {
        var cart = new ShoppingCart([new CartLine(1, 2), new CartLine(2, 3), new CartLine(3, 1), new CartLine(4, 4)]);

        var priced = PricedCart.Price(cart, [Product(1, 5m, 0, "Gone for now"), Product(2, 5m, 2, "Scarce"), Product(4, 5m, 4, "Plenty")]);

        var problems = priced.Lines.ToDictionary(l => l.ProductId, l => l.Problem);
        Assert.Equal(CartLineProblem.OutOfStock, problems[1]);
        Assert.Equal(CartLineProblem.NotEnoughStock, problems[2]);
        Assert.Equal(CartLineProblem.NoLongerSold, problems[3]);
        Assert.Equal(CartLineProblem.None, problems[4]);
        Assert.Equal("Only 2 left. Please lower the quantity.", priced.Lines.Single(l => l.ProductId == 2).ProblemMessage);
        Assert.Equal(0m, priced.Lines.Single(l => l.ProductId == 3).LineTotal);
        Assert.True(priced.HasProblems);
        Assert.False(priced.CanCheckOut);
    }

    [Fact]
    public void An_empty_cart_cannot_be_checked_out()
    {
        Assert.False(PricedCart.Price(ShoppingCart.Empty, []).CanCheckOut);
    }
}
