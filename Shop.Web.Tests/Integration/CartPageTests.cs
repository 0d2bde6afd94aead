using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shop.Web.Cart;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// The cart page's Update as a browser posts it, with the cart in a real Redis: a quantity the cart will not take as
/// typed is reported to the shopper, not dropped or clamped without a word.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed partial class CartPageTests(RedisFixture redis) : StorefrontWithCartsInRedis(redis)
{
    protected override void MapGateway(WebApplication gateway) =>
        // The catalog is down: the cart shows its lines without prices, which is all these tests read.
        gateway.MapGet("/api/products/{**path}", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));

    [Fact]
    public async Task A_negative_quantity_leaves_the_line_and_tells_the_shopper()
    {
        var page = await UpdateAsync(quantity: "-5");

        Assert.Contains("A quantity can&#x27;t be below zero, so that line was left as it was.", page, StringComparison.Ordinal);
        Assert.Equal([new CartLine(1, 2)], (await Carts.GetAsync(CartOwner.User(Subject))).Lines);
    }

    [Fact]
    public async Task A_quantity_past_the_limit_is_set_to_it_and_the_shopper_is_told()
    {
        var page = await UpdateAsync(quantity: "100000");

        Assert.Contains($"At most {ShoppingCart.MaxQuantity} of a product can be ordered at once", page, StringComparison.Ordinal);
        Assert.Equal([new CartLine(1, ShoppingCart.MaxQuantity)], (await Carts.GetAsync(CartOwner.User(Subject))).Lines);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("3.5")]
    [InlineData("1e3")]
    [InlineData("")]
    public async Task A_quantity_that_is_not_a_whole_number_leaves_the_line_and_tells_the_shopper(string quantity)
    {
        var page = await UpdateAsync(quantity);

        Assert.Contains("A quantity has to be a whole number, such as 1 or 2, so a line with anything else was left as it was.", page, StringComparison.Ordinal);
        Assert.Equal([new CartLine(1, 2)], (await Carts.GetAsync(CartOwner.User(Subject))).Lines);
    }

    [Fact]
    public async Task A_quantity_past_ints_range_is_set_to_the_limit_like_any_other_too_large_one()
    {
        var page = await UpdateAsync(quantity: "99999999999");

        Assert.Contains($"At most {ShoppingCart.MaxQuantity} of a product can be ordered at once", page, StringComparison.Ordinal);
        Assert.Equal([new CartLine(1, ShoppingCart.MaxQuantity)], (await Carts.GetAsync(CartOwner.User(Subject))).Lines);
    }

    /// <summary>Posts the cart form with <paramref name="quantity"/> for its one line (two of product 1), and follows the redirect.</summary>
    private async Task<string> UpdateAsync(string quantity)
    {
        await Carts.UpdateAsync(CartOwner.User(Subject), _ => (ShoppingCart.Empty.Add(1, 2).Cart, true));
        using var client = CreateClient();
        var form = await client.GetStringAsync("/cart");
        var token = AntiforgeryToken().Match(form).Groups[1].Value;

        using var posted = await client.PostAsync("/cart", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "cart",
            ["__RequestVerificationToken"] = token,
            ["qty-1"] = quantity,
            ["Action"] = "update",
        }));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        return await client.GetStringAsync(posted.Headers.Location);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
