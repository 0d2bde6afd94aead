using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Shop.Hosting;
using Shop.Tests.Checkout;
using Shop.Tests.Identity;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Storefront;

/// <summary>A product made for one test: a made-up word in its name finds it, and nothing else, by search.</summary>
internal sealed record StorefrontProduct(int Id, string Name, string Word, decimal Price, int BrandId, string Brand);

/// <summary>
/// What the storefront's browser tests share: products and shoppers made through the APIs (as the checkout tests
/// make them), signing in on the identity service's page in the browser, and reading what pages show.
/// </summary>
internal sealed partial class StorefrontDriver(DistributedApplication app)
{
    private static readonly CultureInfo Dollars = CultureInfo.GetCultureInfo("en-US");

    public CheckoutDriver Checkout { get; } = new(app);

    public ShopIdentityClient Identity => Checkout.Identity;

    public Uri Web => Identity.Web;

    public string Url(string path) => new Uri(Web, path).AbsoluteUri;

    /// <summary>A word no seeded product has: letters only, so full-text search treats it as one plain word.</summary>
    public static string NewWord() =>
        "zephy" + new string([.. RandomNumberGenerator.GetBytes(7).Select(b => (char)('a' + (b % 26)))]);

    /// <summary>Creates a product with the catalog's <paramref name="brandIndex"/>-th brand, as an admin would.</summary>
    public async Task<StorefrontProduct> CreateProductAsync(decimal price, int stock, CancellationToken cancellationToken, int brandIndex = 0)
    {
        using var admin = await Checkout.AdminAsync(cancellationToken);
        var brand = (await admin.GetFromJsonAsync<JsonElement>("/api/products/brands", cancellationToken))[brandIndex];
        var category = (await admin.GetFromJsonAsync<JsonElement>("/api/products/categories", cancellationToken))[0].GetProperty("id").GetInt32();
        var word = NewWord();
        var name = $"Storefront {word} lantern";
        using var response = await admin.PostAsJsonAsync("/api/products/items", new
        {
            name,
            description = "A lantern made by a storefront test.",
            price,
            brandId = brand.GetProperty("id").GetInt32(),
            categoryId = category,
            availableStock = stock,
        }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Creating a product answered {(int)response.StatusCode}: {body}");
        return new StorefrontProduct(
            JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32(), name, word, price,
            brand.GetProperty("id").GetInt32(), brand.GetProperty("name").GetString()!);
    }

    /// <summary>Changes a product's price as an admin would (PUT of the whole product, everything else as it was).</summary>
    public async Task SetPriceAsync(int productId, decimal price, CancellationToken cancellationToken)
    {
        using var admin = await Checkout.AdminAsync(cancellationToken);
        var item = await admin.GetFromJsonAsync<JsonElement>($"/api/products/items/{productId}", cancellationToken);
        using var response = await admin.PutAsJsonAsync($"/api/products/items/{productId}", new
        {
            name = item.GetProperty("name").GetString(),
            description = item.GetProperty("description").GetString(),
            price,
            brandId = item.GetProperty("brandId").GetInt32(),
            categoryId = item.GetProperty("categoryId").GetInt32(),
        }, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"Changing the price answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    /// <summary>The user's orders as ordering lists them, through the gateway with a token of their own.</summary>
    public async Task<List<JsonElement>> OrdersOfAsync(TestUser user, CancellationToken cancellationToken)
    {
        var tokens = await Identity.SignInAsync(user, cancellationToken);
        using var gateway = Identity.CreateGatewayClient(tokens.AccessToken);
        var page = await gateway.GetFromJsonAsync<JsonElement>("/api/ordering/orders?pageSize=100", cancellationToken);
        return [.. page.GetProperty("data").EnumerateArray().Select(o => o.Clone())];
    }

    public Task ExpectConfirmedAsync(IPage page, TestUser user, CancellationToken cancellationToken) =>
        ExpectStatusAsync(page, user, "Confirmed", cancellationToken);

    /// <summary>
    /// Waits for the order page to show <paramref name="status"/> (as the storefront words it). If it does not, the
    /// failure adds what ordering itself recorded for the order, which tells a page that missed an update apart from
    /// an order that never got there.
    /// </summary>
    public async Task ExpectStatusAsync(IPage page, TestUser user, string status, CancellationToken cancellationToken)
    {
        try
        {
            await Expect(page.Locator(".order-head .status")).ToHaveTextAsync(status, new() { Timeout = 60_000 });
        }
        catch (PlaywrightException exception)
        {
            var recorded = await DescribeOrderAsync(user, OrderIdOf(page.Url), cancellationToken);
            throw new PlaywrightException($"Ordering's record of the order: {recorded}{Environment.NewLine}{exception.Message}", exception);
        }
    }

    private async Task<string> DescribeOrderAsync(TestUser user, Guid orderId, CancellationToken cancellationToken)
    {
        try
        {
            var tokens = await Identity.SignInAsync(user, cancellationToken);
            using var gateway = Identity.CreateGatewayClient(tokens.AccessToken);
            using var response = await gateway.GetAsync($"/api/ordering/orders/{orderId}", cancellationToken);
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}";
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            return $"not read ({exception.Message})";
        }
    }

    /// <summary>On the identity service's sign-in page (through the gateway): signs in, and waits to be back on the storefront.</summary>
    public async Task SignInOnLoginPageAsync(IPage page, TestUser user)
    {
        await Expect(page).ToHaveURLAsync(new Regex($"^{Regex.Escape(Identity.Gateway.GetLeftPart(UriPartial.Authority))}/account/login"));
        await page.GetByLabel("E-mail address").FillAsync(user.Email);
        await page.GetByLabel("Password").FillAsync(user.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator(".user-name")).ToHaveTextAsync(user.Name);
        Assert.StartsWith(Web.GetLeftPart(UriPartial.Authority), page.Url, StringComparison.Ordinal);
    }

    /// <summary>Signs in with the header's "Sign in" link, then opens checkout with the cart as it now is.</summary>
    public async Task SignInAndOpenCheckoutAsync(IPage page, TestUser user)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await SignInOnLoginPageAsync(page, user);
        await page.GotoAsync(Url("/checkout"));
    }

    /// <summary>Adds <paramref name="quantity"/> of a product from its page, and waits for the page to say so.</summary>
    public async Task AddToCartAsync(IPage page, StorefrontProduct product, int quantity)
    {
        await page.GotoAsync(Url($"/products/{product.Id}"));
        await page.GetByLabel("Quantity").FillAsync(quantity.ToString(CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await Expect(page.Locator(".notice-success")).ToContainTextAsync($"Added {quantity} × {product.Name} to your cart.");
    }

    /// <summary>Waits until the first picture matching <paramref name="selector"/> has loaded (through the storefront's picture endpoint).</summary>
    public static Task WaitForPictureAsync(IPage page, string selector) =>
        page.WaitForFunctionAsync("selector => { const img = document.querySelector(selector); return !!img && img.complete && img.naturalWidth > 0; }", selector);

    /// <summary>A screenshot of the whole page once every product picture on it has loaded.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('img.picture')].every(img => img.complete && img.naturalWidth > 0)");
        return await Browser.ScreenshotAsync(page, name);
    }

    /// <summary>The prices a page shows in <paramref name="locator"/>'s elements (e.g. "$1,234.50"), in page order.</summary>
    public static async Task<decimal[]> PricesAsync(ILocator locator) =>
        [.. (await locator.AllTextContentsAsync()).Select(Price)];

    public static decimal Price(string text) => decimal.Parse(text.Trim(), NumberStyles.Currency, Dollars);

    public static string Dollar(decimal amount) => amount.ToString("C", Dollars);

    [GeneratedRegex("/orders/(?<id>[0-9a-f-]{36})")]
    public static partial Regex OrderUrl();

    public static Guid OrderIdOf(string url) => Guid.Parse(OrderUrl().Match(url).Groups["id"].Value);
}
