using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shop.Web.Cart;
using Shop.Web.Services;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// A page's antiforgery token belongs to the user it was rendered for. A form posted from a page rendered before the
/// shopper signed in or out in another tab is refused, and the shopper gets the page back saying so, with nothing of
/// the form done, rather than a bare 400.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed partial class SessionChangeTests(RedisFixture redis) : StorefrontWithCartsInRedis(redis)
{
    private const string SessionChanged = "Your session changed in another tab";

    protected override void MapGateway(WebApplication gateway)
    {
        gateway.MapGet("/api/products/items/1", () => Results.Json(
            new CatalogItem(1, "Kettle", "Boils water.", 25m, "Acme", "Kitchen", AvailableStock: 10, BrandId: 1, CategoryId: 1)));
        gateway.MapGet("/api/products/{**path}", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
    }

    [Fact]
    public async Task A_cart_update_from_a_page_rendered_before_signing_out_elsewhere_changes_nothing_and_says_why()
    {
        await Carts.UpdateAsync(CartOwner.User(Subject), _ => (ShoppingCart.Empty.Add(1, 2).Cart, true));
        using var client = CreateClient();
        var token = await TokenOfAsync(client, "/cart", signedIn: true);

        using var posted = await PostAsync(client, "/cart", signedIn: false, new()
        {
            ["_handler"] = "cart",
            ["__RequestVerificationToken"] = token,
            ["qty-1"] = "5",
            ["Action"] = "update",
        });

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("/cart?notice=session-changed", posted.Headers.Location?.OriginalString);
        Assert.Contains(SessionChanged, await GetAsync(client, posted.Headers.Location!, signedIn: false), StringComparison.Ordinal);
        Assert.Equal([new CartLine(1, 2)], (await Carts.GetAsync(CartOwner.User(Subject))).Lines);
    }

    [Fact]
    public async Task Add_to_cart_from_a_page_rendered_before_signing_in_elsewhere_adds_nothing_and_says_why()
    {
        await Carts.UpdateAsync(CartOwner.User(Subject), _ => (ShoppingCart.Empty, true));
        using var client = CreateClient();
        var token = await TokenOfAsync(client, "/products/1", signedIn: false);

        using var posted = await PostAsync(client, "/products/1", signedIn: true, new()
        {
            ["_handler"] = "add-to-cart",
            ["__RequestVerificationToken"] = token,
            ["Form.Quantity"] = "1",
        });

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("/products/1?notice=session-changed", posted.Headers.Location?.OriginalString);
        var page = await GetAsync(client, posted.Headers.Location!, signedIn: true);
        Assert.Contains(SessionChanged, page, StringComparison.Ordinal);
        Assert.DoesNotContain("to your cart", page, StringComparison.Ordinal);
        Assert.True((await Carts.GetAsync(CartOwner.User(Subject))).IsEmpty);
    }

    [Fact]
    public async Task Sign_out_from_a_page_rendered_before_signing_out_elsewhere_goes_home_and_says_why()
    {
        using var client = CreateClient();
        var token = await TokenOfAsync(client, "/cart", signedIn: true);

        using var posted = await PostAsync(client, "/authentication/logout", signedIn: false, new()
        {
            ["__RequestVerificationToken"] = token,
        });

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("/?notice=session-changed", posted.Headers.Location?.OriginalString);
    }

    /// <summary>The antiforgery token of the page's forms, rendered for the shopper signed in or not.</summary>
    private static async Task<string> TokenOfAsync(HttpClient client, string path, bool signedIn) =>
        AntiforgeryToken().Match(await GetAsync(client, new Uri(path, UriKind.Relative), signedIn)).Groups[1].Value;

    private static async Task<string> GetAsync(HttpClient client, Uri path, bool signedIn)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await client.SendAsync(As(request, signedIn));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, bool signedIn, Dictionary<string, string> form) =>
        client.SendAsync(As(new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) }, signedIn));

    private static HttpRequestMessage As(HttpRequestMessage request, bool signedIn)
    {
        if (!signedIn)
        {
            request.Headers.Add(SignedOutHeader, "true");
        }

        return request;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
