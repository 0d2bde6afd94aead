using Microsoft.Playwright;
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
}
