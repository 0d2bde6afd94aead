using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using OpenTelemetry.Exporter;
using Shop.Dashboard.Contracts;
using Shop.Dashboard.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Dashboard.Tests.Browser;

/// <summary>
/// Each page in a real browser: it renders real data, and updates live (no reload) when new telemetry or a state
/// change arrives. A marker set on <c>window</c> proves the page was not reloaded.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardPagesTests(BrowserFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private IBrowserContext _context = default!;
    private IPage _page = default!;

    private DashboardProcess Dashboard => fixture.Dashboard;

    public async Task InitializeAsync() => (_context, _page) = await fixture.SignedInPageAsync();

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task An_anonymous_visit_lands_on_sign_in_and_the_form_accepts_the_token()
    {
        await using var anonymous = await fixture.Browser.NewContextAsync();
        var page = await anonymous.NewPageAsync();
        await page.GotoAsync(new Uri(Dashboard.FrontendUrl, "/traces").ToString());
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);

        await page.FillAsync("#token", "not-the-token");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator(".login-error")).ToContainTextAsync("not valid");
        await Screenshot(page, "sign-in");

        await page.FillAsync("#token", Dashboard.BrowserToken!);
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Traces");
        Assert.EndsWith("/traces", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signing_out_sends_the_other_open_tabs_to_sign_in()
    {
        // A second tab of the same browser, live on another page.
        var other = await _context.NewPageAsync();
        await other.GotoAsync(new Uri(Dashboard.FrontendUrl, "/structuredlogs").ToString());
        await Expect(other.Locator("[data-circuit=live]")).ToBeVisibleAsync();

        await _page.ClickAsync("a.sign-out");
        await Expect(_page.Locator("#token")).ToBeVisibleAsync();

        // That tab's circuit started signed in and never sees the cookie again: it learns of the sign-out by re-checking.
        await Expect(other).ToHaveURLAsync(new Regex("/login"), new() { Timeout = 60_000 });
        await Expect(other.Locator("#token")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Resources_page_shows_the_apphost_view_masks_secrets_and_updates_live()
    {
        var products = _page.Locator("tr[data-resource=products]");
        await Expect(products.Locator("[data-testid=state]")).ToHaveTextAsync(KnownResourceStates.Running);
        await Expect(products.Locator("a.endpoint")).ToHaveAttributeAsync("href", "http://127.0.0.1:5101");
        await Expect(products.Locator(".chip", new() { HasText = "postgres" })).ToBeVisibleAsync();
        await Expect(_page.Locator("tr[data-resource=migrator] [data-testid=state]")).ToHaveTextAsync(KnownResourceStates.Exited);
        await Expect(_page.Locator("[data-testid=connection]")).ToContainTextAsync("Connected");

        await products.Locator("button.link").ClickAsync();
        var secret = _page.Locator("tr[data-env=ConnectionStrings__productsdb]");
        await Expect(secret.Locator("[data-testid=masked]")).ToBeVisibleAsync();
        await Expect(secret).Not.ToContainTextAsync("s3cret-value");
        await Expect(_page.Locator("tr[data-env=ASPNETCORE_ENVIRONMENT]")).ToContainTextAsync("Development");
        await Screenshot(_page, "resources");
        await secret.Locator("button.reveal").ClickAsync();
        await Expect(secret).ToContainTextAsync("s3cret-value");

        await MarkPageAsync();
        var cache = fixture.ResourceService.Get("cache");
        fixture.ResourceService.Update(cache with { HealthStatus = "Unhealthy" });
        await Expect(_page.Locator("tr[data-resource=cache] [data-testid=health]")).ToHaveTextAsync("Unhealthy");
        fixture.ResourceService.Update(cache with { HealthStatus = "Healthy" });
        await Expect(_page.Locator("tr[data-resource=cache] [data-testid=health]")).ToHaveTextAsync("Healthy");
        await AssertNotReloadedAsync();
    }

    [Fact]
    public async Task Restart_clicked_on_the_resources_page_reaches_the_resource_service()
    {
        var postgres = _page.Locator("tr[data-resource=postgres]");
        await Expect(postgres.Locator("[data-testid=state]")).ToHaveTextAsync(KnownResourceStates.Running);
        var pidBefore = fixture.ResourceService.Get("postgres").ProcessId;

        await postgres.Locator("[data-command=restart]").ClickAsync();

        await Expect(_page.Locator("[data-testid=command-message]")).ToHaveTextAsync("Restart requested for postgres.");
        Assert.Contains(("postgres", ResourceCommands.Restart), fixture.ResourceService.Commands);
        await Poll.UntilAsync(
            () => Task.FromResult(fixture.ResourceService.Get("postgres") is { State: KnownResourceStates.Running } r && r.ProcessId != pidBefore ? "restarted" : null),
            "the fake resource service to finish the restart",
            Poll.Timeout(15).Token);
        await Expect(postgres.Locator("[data-testid=state]")).ToHaveTextAsync(KnownResourceStates.Running);
    }

    [Fact]
    public async Task Console_logs_tail_live_with_ansi_colours_and_search()
    {
        await _page.ClickAsync("tr[data-resource=products] a.action-link");
        var console = _page.Locator("[data-testid=console]");
        await Expect(console).ToContainTextAsync("Now listening on: http://127.0.0.1:5101");
        await Expect(console.Locator(".ansi-fg-2", new() { HasText = "info" })).ToBeVisibleAsync();
        await Expect(console.Locator(".line.stderr")).ToContainTextAsync("unhandled exception");

        await MarkPageAsync();
        fixture.ResourceService.WriteConsole("products", "\u001b[31mlive line arrived\u001b[0m");
        await Expect(console.Locator(".ansi-fg-1", new() { HasText = "live line arrived" })).ToBeVisibleAsync();
        await Screenshot(_page, "console-logs");

        await _page.FillAsync("[data-testid=console-search]", "cache is");
        await Expect(console.Locator(".line")).ToHaveCountAsync(1);
        await Expect(console).ToContainTextAsync("cache is cold");
        await AssertNotReloadedAsync();
    }

    [Fact]
    public async Task Structured_logs_render_filter_link_to_traces_and_update_live()
    {
        using var sender = new OtelSender(Dashboard, OtlpExportProtocol.Grpc, "logs-page-service");
        var logger = sender.CreateLogger("Checkout");
        string traceId;
        using (var activity = sender.Source.StartActivity("checkout", ActivityKind.Server))
        {
            traceId = activity!.TraceId.ToHexString();
            logger.LogInformation("Basket {BasketId} checked out", "b-17");
        }

        Assert.True(sender.Flush());
        await _page.GotoAsync(new Uri(Dashboard.FrontendUrl, "/structuredlogs?resource=logs-page-service").ToString());
        await Expect(_page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var rows = _page.Locator("[data-testid=logs] tr.log-row");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("Basket b-17 checked out");

        await MarkPageAsync();
        logger.LogError("Payment for basket {BasketId} declined", "b-18");
        Assert.True(sender.Flush());
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToContainTextAsync("Payment for basket b-18 declined");
        await Screenshot(_page, "structured-logs");

        await _page.SelectOptionAsync("[data-testid=logs-level]", "Error");
        await Expect(rows).ToHaveCountAsync(1);
        await _page.SelectOptionAsync("[data-testid=logs-level]", "");
        await _page.FillAsync("[data-testid=logs-attribute]", "BasketId");
        await _page.FillAsync("[data-testid=logs-attribute-value]", "b-17");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("b-17");
        await AssertNotReloadedAsync();

        await rows.First.Locator($"a[href='traces/{traceId}']").ClickAsync();
        await Expect(_page.Locator("[data-testid=trace-title]")).ToHaveTextAsync("logs-page-service: checkout");
    }

    [Fact]
    public async Task Traces_page_lists_traces_updates_live_and_shows_the_span_waterfall()
    {
        using var sender = new OtelSender(Dashboard, OtlpExportProtocol.HttpProtobuf, "traces-page-service");
        var first = RecordTrace(sender, "GET /catalog", fail: false);
        Assert.True(sender.Flush());

        await _page.GotoAsync(new Uri(Dashboard.FrontendUrl, "/traces?resource=traces-page-service").ToString());
        await Expect(_page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var rows = _page.Locator("[data-testid=traces] tr.trace-row");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync("traces-page-service: GET /catalog");

        await MarkPageAsync();
        var second = RecordTrace(sender, "POST /checkout", fail: true);
        Assert.True(sender.Flush());
        await Expect(rows).ToHaveCountAsync(2);
        var failed = _page.Locator($"tr[data-trace-id='{second}']");
        await Expect(failed).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-error"));
        await Expect(failed).ToContainTextAsync("3");
        await Screenshot(_page, "traces");

        await _page.FillAsync("[data-testid=traces-name]", "catalog");
        await Expect(rows).ToHaveCountAsync(1);
        await AssertNotReloadedAsync();

        await _page.ClickAsync($"tr[data-trace-id='{first}'] a");
        var spans = _page.Locator("[data-testid=waterfall] .span-row");
        await Expect(spans).ToHaveCountAsync(3);
        await spans.Nth(1).ClickAsync();
        var details = _page.Locator("[data-testid=span-details]");
        await Expect(details).ToContainTextAsync("SELECT products");
        await Expect(details).ToContainTextAsync("db.system");
        await Expect(details).ToContainTextAsync("cache-miss");
        await Expect(details.Locator(".link-item")).ToHaveCountAsync(1);
        await Screenshot(_page, "trace-detail");
    }

    [Fact]
    public async Task Metrics_page_charts_an_instrument_with_dimension_filters_and_updates_live()
    {
        using var sender = new OtelSender(Dashboard, OtlpExportProtocol.Grpc, "metrics-page-service");
        var orders = sender.Meter.CreateCounter<long>("checkout.orders", "{order}", "Orders placed");
        var latency = sender.Meter.CreateHistogram<double>("checkout.duration", "ms", "Checkout duration");
        orders.Add(2, new KeyValuePair<string, object?>("payment", "card"));
        orders.Add(1, new KeyValuePair<string, object?>("payment", "cash"));
        foreach (var value in new[] { 12.0, 30, 45, 80, 250 })
        {
            latency.Record(value);
        }

        Assert.True(sender.Flush());
        await _page.GotoAsync(new Uri(Dashboard.FrontendUrl, "/metrics?resource=metrics-page-service").ToString());
        await Expect(_page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await _page.ClickAsync("button[data-instrument='checkout.orders']");
        await Expect(_page.Locator("[data-testid=instrument-title]")).ToHaveTextAsync("checkout.orders");
        await Expect(_page.Locator("[data-testid=chart] polyline")).ToHaveCountAsync(2);
        var values = _page.Locator("[data-testid=metric-values] tbody tr");
        await Expect(values).ToHaveCountAsync(2);

        await _page.SelectOptionAsync("select[data-dimension=payment]", "card");
        await Expect(values).ToHaveCountAsync(1);
        await Expect(values.First.Locator("[data-testid=latest-value]")).ToHaveTextAsync("2");

        await MarkPageAsync();
        orders.Add(5, new KeyValuePair<string, object?>("payment", "card"));
        Assert.True(sender.Flush());
        await Expect(values.First.Locator("[data-testid=latest-value]")).ToHaveTextAsync("7");
        await Screenshot(_page, "metrics");

        await _page.ClickAsync("button[data-instrument='checkout.duration']");
        await Expect(_page.Locator("[data-testid=chart] figcaption")).ToContainTextAsync("P90");
        await AssertNotReloadedAsync();
    }

    private static string RecordTrace(OtelSender sender, string name, bool fail)
    {
        using var root = sender.Source.StartActivity(name, ActivityKind.Server)!;
        using (var query = sender.Source.StartActivity("SELECT products", ActivityKind.Client, root.Context, links: [new ActivityLink(new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded))])!)
        {
            query.SetTag("db.system", "postgresql");
            query.AddEvent(new ActivityEvent("cache-miss"));
            if (fail)
            {
                query.SetStatus(ActivityStatusCode.Error, "timeout");
            }
        }

        using (sender.Source.StartActivity("render", ActivityKind.Internal, root.Context))
        {
        }

        return root.TraceId.ToHexString();
    }

    private async Task MarkPageAsync() => await _page.EvaluateAsync("() => window.__notReloaded = true");

    private async Task AssertNotReloadedAsync() => Assert.True(await _page.EvaluateAsync<bool>("() => window.__notReloaded === true"));

    private async Task Screenshot(IPage page, string name)
    {
        var path = await fixture.ScreenshotAsync(page, name);
        output.WriteLine($"Screenshot: {path}");
    }
}
