using Microsoft.Playwright;
using Shop.Tests.Checkout;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Storefront;

/// <summary>
/// Two tabs of one browser share the session. A page rendered before the shopper signed in or out in the other tab
/// holds forms for the user it was rendered for: in a real browser (Blazor's enhanced forms, which post with fetch and
/// follow the redirect themselves), such a form does nothing and brings the page back saying why, and the next try
/// works.
/// </summary>
[Collection(ShopAppCollection.Name)]
public sealed class StorefrontSessionTests(ShopAppFixture shop, ITestOutputHelper output) : StorefrontTest(shop, output)
{
    private const string SessionChanged = "Your session changed in another tab";

    [Fact]
    public async Task A_form_from_a_tab_rendered_before_signing_in_or_out_in_another_tab_does_nothing_says_why_and_works_when_tried_again()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var product = await Store.CreateProductAsync(price: 4.75m, stock: 5, ct);
        var user = await Store.Identity.RegisterAsync("storefront-tabs", ct);
        var first = await Browser.NewPageAsync();
        var second = await first.Context.NewPageAsync();

        // The first tab shows the product to a visitor; the second signs in.
        await first.GotoAsync(Store.Url($"/products/{product.Id}"));
        await second.GotoAsync(Store.Url("/"));
        await second.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Store.SignInOnLoginPageAsync(second, user);

        // The visitor's form: nothing is added, and the page comes back for the signed-in user, saying why.
        await first.GetByLabel("Quantity").FillAsync("2");
        await first.GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await Expect(first.Locator(".notice-warning")).ToContainTextAsync(SessionChanged);
        await Expect(first.Locator(".user-name")).ToHaveTextAsync(user.Name);
        await Expect(first.Locator(".notice-success")).ToHaveCountAsync(0);
        await Expect(first.Locator(".cart-count")).ToHaveCountAsync(0);

        // Tried again on the page that came back: it works.
        await first.GetByLabel("Quantity").FillAsync("2");
        await first.GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await Expect(first.Locator(".notice-success")).ToContainTextAsync($"Added 2 × {product.Name} to your cart.");
        await Expect(first.Locator(".cart-count")).ToHaveTextAsync("2");

        // The second tab signs out; the first tab's form, rendered for the user, adds nothing to anyone's cart.
        await second.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(second.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
        await first.GetByLabel("Quantity").FillAsync("1");
        await first.GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await Expect(first.Locator(".notice-warning")).ToContainTextAsync(SessionChanged);
        await Expect(first.Locator(".user-name")).ToHaveCountAsync(0);
        await Expect(first.Locator(".cart-count")).ToHaveCountAsync(0);
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(first, "storefront-session-changed")}");

        // The user's cart kept the one addition made while signed in.
        await second.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Store.SignInOnLoginPageAsync(second, user);
        await Expect(second.Locator(".cart-count")).ToHaveTextAsync("2");
    }

    /// <summary>
    /// A live page (an interactive circuit) keeps the request it was opened with. It used to send that request's
    /// token, so a tab left on an order page still cancelled the order after the user had signed out in another tab.
    /// The session now lives on the server, and signing out ends it for the live page too.
    /// </summary>
    [Fact]
    public async Task A_live_order_page_no_longer_acts_for_the_user_once_another_tab_has_signed_out()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var product = await Store.CreateProductAsync(price: 3.25m, stock: 5, ct);
        var user = await Store.Identity.RegisterAsync("storefront-live-sign-out", ct);
        var first = await Browser.NewPageAsync();
        var second = await first.Context.NewPageAsync();
        await first.GotoAsync(Store.Url("/"));
        await first.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Store.SignInOnLoginPageAsync(first, user);
        await second.GotoAsync(Store.Url("/"));
        await Expect(second.Locator(".user-name")).ToHaveTextAsync(user.Name);

        // The charge takes 9 s at the card gateway (payment's attempt timeout is 10 s): until then the order can be
        // cancelled, and its page offers to.
        Guid orderId;
        await using (await Store.Checkout.Simulator.ChangeAsync(new { latencyMs = 9_000 }, ct))
        {
            var tokens = await Store.Identity.SignInAsync(user, ct);
            using (var shopper = new Shopper(user, tokens.AccessToken, Store.Identity.CreateGatewayClient(tokens.AccessToken)))
            {
                orderId = await shopper.PlaceOrderAsync(ct, (product.Id, 1));
            }

            await first.GotoAsync(Store.Url($"/orders/{orderId}"));
            var cancel = first.GetByRole(AriaRole.Button, new() { Name = "Cancel order" });
            await Expect(cancel).ToBeEnabledAsync();

            await second.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await Expect(second.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();

            await cancel.ClickAsync();
            await Expect(first.Locator(".notice-error")).ToContainTextAsync("Your session has expired. Please sign in again.");
            Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(first, "storefront-live-page-signed-out")}");
        }

        // Nothing was cancelled: the order goes on to be paid for.
        var orders = await CheckoutDriver.EventuallyAsync(
            () => Store.OrdersOfAsync(user, ct), all => all.Count == 1 && CheckoutDriver.FinalStatuses.Contains(all[0].Status()), "the order to be paid for", ct);
        Assert.Equal("Confirmed", orders[0].Status());
    }
}
