using System.Reflection;
using Microsoft.Playwright;
using Shop.Dashboard.Contracts;
using Shop.Dashboard.Tests.Infrastructure;

namespace Shop.Dashboard.Tests.Browser;

/// <summary>
/// Debian's Chromium driven by Playwright against a dashboard that is connected to a fake resource service.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public FakeResourceService ResourceService { get; private set; } = default!;

    public DashboardProcess Dashboard { get; private set; } = default!;

    public IBrowser Browser { get; private set; } = default!;

    public static string ScreenshotDirectory { get; } = Path.Combine(
        typeof(BrowserFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestProjectDirectory").Value!,
        "TestResults",
        "screenshots");

    public async Task InitializeAsync()
    {
        using var timeout = Poll.Timeout();
        ResourceService = await FakeResourceService.StartAsync(InitialResources(), timeout.Token);
        ResourceService.WriteConsole("products", "\u001b[32minfo\u001b[39m: Now listening on: http://127.0.0.1:5101");
        ResourceService.WriteConsole("products", "\u001b[33mwarn\u001b[39m: cache is cold");
        ResourceService.WriteConsole("products", "unhandled exception in worker", isStdErr: true);

        Dashboard = await DashboardProcess.StartAsync(
            new Dictionary<string, string>
            {
                [ResourceServiceProtocol.UrlVariable] = ResourceService.Url,
                [ResourceServiceProtocol.ApiKeyVariable] = ResourceService.ApiKey,
            },
            cancellationToken: timeout.Token);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
        Assertions.SetDefaultExpectTimeout(15_000);
    }

    /// <summary>A fresh browser context signed in through the login link, on the dashboard's start page.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignedInPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(await Dashboard.LoginUrl);
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        return (context, page);
    }

    public async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Dashboard is not null)
        {
            await Dashboard.DisposeAsync();
        }

        if (ResourceService is not null)
        {
            await ResourceService.DisposeAsync();
        }
    }

    private static ResourceSnapshot[] InitialResources()
    {
        var started = DateTimeOffset.UtcNow.AddMinutes(-5);
        return
        [
            new ResourceSnapshot(
                "products", "products", "Project", KnownResourceStates.Running, "Healthy", started, null, null, 4242,
                [new ResourceEndpoint("http", "http://127.0.0.1:5101", IsExternal: false)],
                [
                    new ResourceEnvironmentVariable("ASPNETCORE_ENVIRONMENT", "Development", IsSecret: false),
                    new ResourceEnvironmentVariable("ConnectionStrings__productsdb", "Host=127.0.0.1;Password=s3cret-value", IsSecret: true),
                ],
                ["postgres", "cache"],
                [ResourceCommands.Stop, ResourceCommands.Restart]),
            new ResourceSnapshot(
                "postgres", "postgres", "Postgres", KnownResourceStates.Running, "Healthy", started, null, null, 4100,
                [new ResourceEndpoint("tcp", "tcp://127.0.0.1:5432", IsExternal: false)], [], [], [ResourceCommands.Stop, ResourceCommands.Restart]),
            new ResourceSnapshot(
                "cache", "cache", "Redis", KnownResourceStates.Running, null, started, null, null, 4101, [], [], [], [ResourceCommands.Stop, ResourceCommands.Restart]),
            new ResourceSnapshot(
                "migrator", "migrator", "Executable", KnownResourceStates.Exited, null, started, started.AddSeconds(3), 0, null, [], [], ["postgres"], [ResourceCommands.Start]),
        ];
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
