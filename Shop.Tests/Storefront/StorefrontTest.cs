using Xunit.Abstractions;

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

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DescribePagesAsync(output.WriteLine);
            await _browser.DisposeAsync();
        }
    }
}
