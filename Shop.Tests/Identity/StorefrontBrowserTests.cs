using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Identity;

/// <summary>Signing in on the storefront in a real browser (Debian's Chromium), scripts and redirects included.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class StorefrontBrowserTests
{
    private readonly ShopAppFixture _shop;
    private readonly ITestOutputHelper _output;
    private readonly ShopIdentityClient _identity;

    public StorefrontBrowserTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task A_visitor_signs_in_from_the_storefront_sees_their_name_and_profile_and_signs_out()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var user = await _identity.RegisterAsync("browser", timeout.Token);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();

        await page.GotoAsync(_identity.Web.AbsoluteUri);
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();

        // The identity service's page, served through the gateway.
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"^{_identity.Gateway.GetLeftPart(UriPartial.Authority)}/account/login"));
        await page.GetByLabel("E-mail address").FillAsync(user.Email);
        await page.GetByLabel("Password").FillAsync(user.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        // Back on the storefront, signed in: the header names the user.
        await Expect(page.Locator(".user-name")).ToHaveTextAsync(user.Name);
        Assert.StartsWith(_identity.Web.GetLeftPart(UriPartial.Authority), page.Url, StringComparison.Ordinal);
        await Expect(page.Locator(".product").First).ToBeVisibleAsync();
        _output.WriteLine($"screenshot: {await Browser.ScreenshotAsync(page, "shop-storefront-signed-in")}");

        await page.GetByRole(AriaRole.Link, new() { Name = "Profile" }).ClickAsync();
        await Expect(page.Locator(".profile-email")).ToContainTextAsync(user.Email);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(page.Locator(".user-name")).ToHaveCountAsync(0);
    }
}
