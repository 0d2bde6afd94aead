using Microsoft.Playwright;
using Shop.Tests.Identity;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Storefront;

/// <summary>What every storefront browser test starts from: the shared AppHost, a driver for it, and a Chromium of its own.</summary>
public abstract class StorefrontTest(ShopAppFixture shop, ITestOutputHelper output) : IAsyncLifetime
{
    private Browser? _browser;

    private protected StorefrontDriver Store { get; } = new(shop.App);

    protected ShopAppFixture Shop => shop;

    protected ITestOutputHelper Output => output;

    private protected Browser Browser => _browser ?? throw new InvalidOperationException("The browser is launched in InitializeAsync.");

    public virtual async Task InitializeAsync()
    {
        shop.Output = output;
        _browser = await Browser.LaunchAsync();
    }

    /// <summary>Units in stock of a product made by <see cref="OpenCheckoutAsync"/>.</summary>
    private protected const int CheckoutProductStock = 10;

    /// <summary>
    /// A new product (<paramref name="price"/>, <see cref="CheckoutProductStock"/> units) and a new shopper with
    /// <paramref name="quantity"/> of it in the cart, signed in on a page of their own that shows checkout's total.
    /// </summary>
    private protected async Task<(StorefrontProduct Product, TestUser User, IPage Page)> OpenCheckoutAsync(
        string shopper, decimal price, int quantity, CancellationToken cancellationToken)
    {
        var product = await Store.CreateProductAsync(price, CheckoutProductStock, cancellationToken);
        var user = await Store.Identity.RegisterAsync(shopper, cancellationToken);
        var page = await Browser.NewPageAsync();
        await Store.AddToCartAsync(page, product, quantity);
        await Store.SignInAndOpenCheckoutAsync(page, user);
        await Expect(page.Locator(".checkout-total")).ToHaveTextAsync(StorefrontDriver.Dollar(price * quantity));
        return (product, user, page);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DescribePagesAsync(output.WriteLine);
            await _browser.DisposeAsync();
        }
    }
}
