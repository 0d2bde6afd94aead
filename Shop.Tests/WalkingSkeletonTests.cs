using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>The whole system, as a user of the AppHost sees it.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class WalkingSkeletonTests
{
    private readonly ShopAppFixture _shop;

    public WalkingSkeletonTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
    }

    [Fact]
    public async Task Every_resource_of_the_AppHost_is_healthy()
    {
        // Other tests of this collection restart resources (and wait for them), and health is checked every few
        // seconds: each resource gets a minute to report healthy before the snapshot is read.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        foreach (var name in ShopAppFixture.ResourceNames)
        {
            await _shop.App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        var snapshots = _shop.App.ResourceNotifications.GetCurrentSnapshots();

        Assert.Equal(ShopAppFixture.ResourceNames.Order(), snapshots.Select(s => s.ResourceId).Order());
        Assert.All(snapshots, s => Assert.Equal(HealthStatus.Healthy, s.Snapshot.HealthStatus));
    }

    [Fact]
    public async Task The_gateway_routes_catalog_reads_to_products()
    {
        using var gateway = _shop.App.CreateHttpClient("gateway");

        using var response = await gateway.GetAsync("/api/products/items?pageIndex=0&pageSize=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var items = page.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.NotEmpty(items);
        Assert.All(items, item => Assert.False(string.IsNullOrWhiteSpace(item.GetProperty("name").GetString())));
    }

    [Fact]
    public async Task Ordering_prices_a_cart_by_calling_products_through_service_discovery()
    {
        using var gateway = _shop.App.CreateHttpClient("gateway");
        using var page = JsonDocument.Parse(await gateway.GetStringAsync("/api/products/items?pageIndex=0&pageSize=2"));
        var products = page.RootElement.GetProperty("data").EnumerateArray()
            .Select(p => (Id: p.GetProperty("id").GetInt32(), Price: p.GetProperty("price").GetDecimal()))
            .ToList();

        using var response = await gateway.PostAsJsonAsync("/api/ordering/quotes", new
        {
            items = products.Select(p => new { productId = p.Id, quantity = 2 }),
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var quote = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(products.Sum(p => p.Price * 2), quote.RootElement.GetProperty("total").GetDecimal());
    }

    [Fact]
    public async Task The_storefront_home_page_shows_the_catalog_fetched_through_the_gateway()
    {
        using var gateway = _shop.App.CreateHttpClient("gateway");
        using var page = JsonDocument.Parse(await gateway.GetStringAsync("/api/products/items?pageIndex=0&pageSize=1"));
        var firstName = page.RootElement.GetProperty("data")[0].GetProperty("name").GetString()!;
        using var web = _shop.App.CreateHttpClient("web");

        var html = await web.GetStringAsync("/");

        Assert.Contains(WebUtility.HtmlEncode(firstName), html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_killed_with_SIGKILL_shows_Exited_and_its_restart_brings_it_back_while_the_rest_stays_healthy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var notifications = _shop.App.ResourceNotifications;
        var before = await notifications.WaitForResourceHealthyAsync("products", timeout.Token);

        System.Diagnostics.Process.GetProcessById(before.Snapshot.ProcessId!.Value).Kill();
        var exited = await notifications.WaitForResourceAsync("products", KnownResourceStates.Exited, timeout.Token);
        Assert.Equal(137, exited.Snapshot.ExitCode);

        await _shop.App.ResourceCommands.RestartAsync("products", timeout.Token);
        var after = await notifications.WaitForResourceHealthyAsync("products", timeout.Token);
        Assert.NotEqual(before.Snapshot.ProcessId, after.Snapshot.ProcessId);

        var others = notifications.GetCurrentSnapshots().Where(s => s.ResourceId != "products").ToList();
        Assert.All(others, s => Assert.Equal((KnownResourceStates.Running, HealthStatus.Healthy), (s.Snapshot.State, s.Snapshot.HealthStatus)));
        using var gateway = _shop.App.CreateHttpClient("gateway");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/api/products/items", timeout.Token)).StatusCode);
    }
}
