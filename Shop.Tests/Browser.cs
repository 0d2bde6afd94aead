using Microsoft.Playwright;

namespace Shop.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright for .NET: headless, offline-safe flags, never `playwright install`.
/// Screenshots go to TestResults/screenshots beside the test results.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private static int s_describedPages;
    private readonly List<IPage> _pages = [];

    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        _playwright = playwright;
        Chromium = chromium;
    }

    public IBrowser Chromium { get; }

    public static string ScreenshotDirectory { get; } = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "TestResults", "screenshots"));

    public static async Task<Browser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Assertions.SetDefaultExpectTimeout(20_000);
        return new Browser(playwright, chromium);
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        _pages.Add(page);
        return page;
    }

    /// <summary>
    /// Where each page of this browser ended, what its notices and order statuses said (with the live stream's state),
    /// and a screenshot: after a failed expectation (a URL not reached, a status not shown) this is what the page
    /// showed instead.
    /// </summary>
    public async Task DescribePagesAsync(Action<string> writeLine)
    {
        foreach (var page in _pages.Where(p => !p.IsClosed))
        {
            try
            {
                var notices = await page.Locator("[role=alert], [role=status], .status, .live").AllInnerTextsAsync();
                var screenshot = await ScreenshotAsync(page, $"last-page-{Interlocked.Increment(ref s_describedPages)}");
                writeLine($"page at the end: {page.Url}; notices: [{string.Join(" | ", notices.Select(n => n.Trim()))}]; screenshot: {screenshot}");
            }
            catch (PlaywrightException exception)
            {
                writeLine($"page at the end: {page.Url} (not described: {exception.Message})");
            }
        }
    }

    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }
}
