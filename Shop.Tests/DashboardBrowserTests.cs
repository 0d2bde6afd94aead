using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Playwright;
using Shop.Hosting.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests;

/// <summary>The dashboard of the running system, in a real browser.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class DashboardBrowserTests
{
    private readonly ShopAppFixture _shop;
    private readonly ITestOutputHelper _output;

    public DashboardBrowserTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _output = output;
    }

    [Fact]
    public async Task Restart_clicked_on_the_resources_page_restarts_the_real_service()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var notifications = _shop.App.ResourceNotifications;
        var before = await notifications.WaitForResourceHealthyAsync("payment", timeout.Token);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();

        await page.GotoAsync(_shop.App.GetDashboardLoginUrl().ToString());
        await Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var payment = page.Locator("tr[data-resource=payment]");
        await Expect(payment.Locator("[data-testid=state]")).ToHaveTextAsync("Running");
        await Expect(payment.Locator("[data-testid=health]")).ToHaveTextAsync("Healthy");
        _output.WriteLine($"screenshot: {await Browser.ScreenshotAsync(page, "shop-dashboard-resources")}");
        var started = payment.Locator("td").Nth(4);
        var startedBefore = await started.InnerTextAsync();
        Assert.Matches(@"\d{2}:\d{2}:\d{2}", startedBefore);

        await payment.Locator("[data-command=restart]").ClickAsync();
        await Expect(page.Locator("[data-testid=command-message]")).ToHaveTextAsync("Restart requested for payment.");

        var after = await notifications.WaitForResourceAsync(
            "payment",
            e => e.Snapshot.ProcessId != before.Snapshot.ProcessId && e.Snapshot.HealthStatus == HealthStatus.Healthy,
            timeout.Token);
        await Expect(payment.Locator("[data-testid=state]")).ToHaveTextAsync("Running");
        await Expect(payment.Locator("[data-testid=health]")).ToHaveTextAsync("Healthy");
        // Pushed live by the AppHost: the row shows the new process's start time.
        await Expect(started).Not.ToHaveTextAsync(startedBefore);
        Assert.True(after.Snapshot.StartTimeStamp > before.Snapshot.StartTimeStamp);
        _output.WriteLine($"screenshot: {await Browser.ScreenshotAsync(page, "shop-dashboard-after-restart")}");
    }
}
