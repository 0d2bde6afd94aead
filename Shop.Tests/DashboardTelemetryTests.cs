using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>The dashboard fed by the whole running system: one request is one trace; logs are queryable.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class DashboardTelemetryTests
{
    private readonly ShopAppFixture _shop;

    public DashboardTelemetryTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
    }

    [Fact]
    public async Task A_storefront_request_through_the_gateway_is_one_trace_with_spans_from_every_service_it_touched()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var web = _shop.App.CreateHttpClient("web");
        // A search no one made before: the gateway answers repeated catalog reads itself, and this one must reach products.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/?q={traceId}");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        (await web.SendAsync(request)).EnsureSuccessStatusCode();

        using var dashboard = CreateDashboardClient();
        string[] resources = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !new[] { "web", "gateway", "products" }.All(resources.Contains))
        {
            await Task.Delay(250);
            using var response = await dashboard.GetAsync($"/api/telemetry/traces/{traceId}");
            if (response.IsSuccessStatusCode)
            {
                using var trace = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                resources = [.. trace.RootElement.GetProperty("spans").EnumerateArray().Select(s => s.GetProperty("resource").GetString()!.Split('/')[0]).Distinct()];
            }
        }

        Assert.Superset(new HashSet<string> { "web", "gateway", "products" }, resources.ToHashSet());
    }

    [Fact]
    public async Task Structured_logs_of_each_service_are_queryable_by_resource_and_level()
    {
        using var dashboard = CreateDashboardClient();
        JsonElement[] logs = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && logs.Length == 0)
        {
            await Task.Delay(250);
            using var list = JsonDocument.Parse(await dashboard.GetStringAsync("/api/telemetry/logs?resource=products&level=Information&limit=50"));
            logs = [.. list.RootElement.GetProperty("logs").EnumerateArray().Select(l => l.Clone())];
        }

        Assert.NotEmpty(logs);
        Assert.All(logs, log =>
        {
            Assert.StartsWith("products", log.GetProperty("resource").GetString(), StringComparison.Ordinal);
            Assert.Contains(log.GetProperty("level").GetString(), new[] { "Information", "Warning", "Error", "Critical" });
        });

        using var warnings = JsonDocument.Parse(await dashboard.GetStringAsync("/api/telemetry/logs?resource=products&level=Warning&limit=50"));
        Assert.All(warnings.RootElement.GetProperty("logs").EnumerateArray(),
            log => Assert.Contains(log.GetProperty("level").GetString(), new[] { "Warning", "Error", "Critical" }));
    }

    private HttpClient CreateDashboardClient()
    {
        var login = _shop.App.GetDashboardLoginUrl();
        var token = login.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("t=", StringComparison.Ordinal))[2..];
        var client = new HttpClient { BaseAddress = new Uri(login.GetLeftPart(UriPartial.Authority)) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
