using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Shop.Web.Cart;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// At sign-in the visitor's cart joins the user's, which holds at most <see cref="ShoppingCart.MaxLines"/> lines: the
/// page the sign-in returns to says how many of the visitor's lines could not be kept, rather than leaving them to be
/// missed. The sign-in's callback (the OpenID Connect ticket arriving) is called as the handler calls it, with the
/// carts in a real Redis.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class SignInCartMergeTests(RedisFixture redis) : StorefrontWithCartsInRedis(redis)
{
    protected override void MapGateway(WebApplication gateway) =>
        // The catalog is down: the cart shows its lines without prices, which is all this test reads.
        gateway.MapGet("/api/products/{**path}", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));

    [Fact]
    public async Task A_sign_in_whose_cart_has_no_room_for_the_visitors_lines_says_how_many_were_not_kept()
    {
        var visitorId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await Carts.UpdateAsync(CartOwner.User(Subject), _ => (CartOf(Enumerable.Range(1, ShoppingCart.MaxLines - 1)), true));
        await Carts.UpdateAsync(CartOwner.Visitor(visitorId), _ => (CartOf([501, 502, 503]), true));

        var returnUri = await CompleteSignInAsync(visitorId, returnUrl: "/cart");

        Assert.Equal("/cart?cart-left-out=2", returnUri);
        Assert.Equal(ShoppingCart.MaxLines, (await Carts.GetAsync(CartOwner.User(Subject))).Lines.Count);
        using var client = CreateClient();
        Assert.Contains(
            "2 products you had put in your cart before signing in could not be kept: a cart holds at most 100 different products.",
            await client.GetStringAsync(returnUri),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sign_in_whose_cart_keeps_every_line_returns_where_it_was_asked_to()
    {
        var visitorId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await Carts.UpdateAsync(CartOwner.User(Subject), _ => (CartOf([1]), true));
        await Carts.UpdateAsync(CartOwner.Visitor(visitorId), _ => (CartOf([2]), true));

        Assert.Equal("/cart", await CompleteSignInAsync(visitorId, returnUrl: "/cart"));
        Assert.Equal(2, (await Carts.GetAsync(CartOwner.User(Subject))).Lines.Count);
    }

    private static ShoppingCart CartOf(IEnumerable<int> productIds) => new([.. productIds.Select(id => new CartLine(id, 1))]);

    /// <summary>The OpenID Connect handler's ticket-received event for the signed-in shopper, from a browser with this visitor cart; returns where it sends the browser.</summary>
    private async Task<string?> CompleteSignInAsync(string visitorId, string returnUrl)
    {
        var scheme = (await StorefrontServices.GetRequiredService<IAuthenticationSchemeProvider>().GetSchemeAsync(OpenIdConnectDefaults.AuthenticationScheme))!;
        var options = StorefrontServices.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(scheme.Name);
        await using var services = StorefrontServices.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = services.ServiceProvider };
        http.Request.Headers.Cookie = $"{CartSession.VisitorCookieName}={visitorId}";
        var properties = new AuthenticationProperties { RedirectUri = returnUrl };
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", Subject)], scheme.Name));
        var ticketReceived = new TicketReceivedContext(http, scheme, options, new AuthenticationTicket(principal, properties, scheme.Name))
        {
            ReturnUri = properties.RedirectUri,
        };

        await options.Events.TicketReceived(ticketReceived);

        return ticketReceived.ReturnUri;
    }
}
