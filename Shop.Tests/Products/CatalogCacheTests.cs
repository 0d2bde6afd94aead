using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Shop.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Tests.Products;

/// <summary>Issue 6, item 8: catalog reads come from the cache after the first one, and an admin's change shows at once.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CatalogCacheTests
{
    /// <summary>The header products names a response's cache tags in (<c>CacheInvalidations.TagHeader</c>).</summary>
    private const string CacheTagHeader = "Cache-Tag";

    private readonly CatalogDriver _catalog;

    public CatalogCacheTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        shop.Output = output;
        _catalog = new CatalogDriver(shop.App);
    }

    [Fact]
    public async Task A_catalog_read_is_served_from_the_cache_after_the_first_and_shows_an_admins_price_change_at_once()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var token = Guid.NewGuid().ToString("N")[..12];
        var created = await _catalog.CreateProductAsync(7, 20m, ct, name: $"Cache probe {token}");
        var id = created.GetProperty("id").GetInt32();
        using var shopper = _catalog.Anonymous();
        var listing = $"search={token}";

        var first = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(shopper, listing, ct)));
        Assert.Equal(20m, first.GetProperty("price").GetDecimal());
        Assert.Equal(20m, (await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct)).GetProperty("price").GetDecimal());

        // Behind the cache's back: the row changes in the database and nothing tells the cache.
        await UpdateBehindTheCacheAsync(id, price: 99m, name: $"Changed behind the cache {token}", ct);

        var cached = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(shopper, listing, ct)));
        Assert.Equal(20m, cached.GetProperty("price").GetDecimal());
        Assert.Equal($"Cache probe {token}", cached.GetProperty("name").GetString());
        Assert.Equal(20m, (await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct)).GetProperty("price").GetDecimal());
        // The read ordering prices orders with is never cached: it already shows the database.
        var live = Assert.Single((await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/by?ids={id}", ct)).EnumerateArray());
        Assert.Equal(99m, live.GetProperty("price").GetDecimal());

        await ChangePriceAsync(created, $"Cache probe {token}", 25m, ct);

        // Immediately after the admin's change, with no wait: the listing and the product show the new price.
        var changed = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(shopper, listing, ct)));
        Assert.Equal(25m, changed.GetProperty("price").GetDecimal());
        Assert.Equal(25m, (await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct)).GetProperty("price").GetDecimal());
    }

    /// <summary>
    /// Products' own cache, read straight from the service (the gateway's cache out of the way): memory first, then
    /// Redis. A restarted products has an empty memory, and still answers from Redis what the database no longer says.
    /// </summary>
    [Fact]
    public async Task Products_keeps_its_catalog_cache_in_Redis_so_a_restarted_products_still_answers_from_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var token = Guid.NewGuid().ToString("N")[..12];
        var created = await _catalog.CreateProductAsync(4, 40m, ct, name: $"Redis probe {token}");
        var id = created.GetProperty("id").GetInt32();
        var listing = $"search={token}";

        async Task<decimal> ReadPriceFromProductsAsync()
        {
            using var products = await _catalog.AdminDirectAsync(ct);
            var page = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(products, listing, ct)));
            Assert.Equal((await products.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct)).GetProperty("price").GetDecimal(), page.GetProperty("price").GetDecimal());
            return page.GetProperty("price").GetDecimal();
        }

        Assert.Equal(40m, await ReadPriceFromProductsAsync());
        await UpdateBehindTheCacheAsync(id, price: 99m, name: $"Redis probe {token}", ct);
        Assert.Equal(40m, await ReadPriceFromProductsAsync());

        var notifications = _catalog.App.ResourceNotifications;
        var before = await notifications.WaitForResourceHealthyAsync("products", ct);
        await _catalog.App.ResourceCommands.RestartAsync("products", ct);
        var after = await notifications.WaitForResourceHealthyAsync("products", ct);
        Assert.NotEqual(before.Snapshot.ProcessId, after.Snapshot.ProcessId);
        Assert.Equal(40m, await ReadPriceFromProductsAsync());

        // An admin's change drops the entries from Redis too: the restarted products shows it at once.
        await ChangePriceAsync(created, $"Redis probe {token}", 45m, ct);

        Assert.Equal(45m, await ReadPriceFromProductsAsync());
    }

    [Fact]
    public async Task A_stock_change_refreshes_the_pages_showing_that_product_and_no_others()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var (changing, untouched) = (Guid.NewGuid().ToString("N")[..12], Guid.NewGuid().ToString("N")[..12]);
        var product = await _catalog.CreateProductAsync(5, 10m, ct, name: $"Stock probe {changing}");
        var other = await _catalog.CreateProductAsync(5, 10m, ct, name: $"Stock probe {untouched}");
        using var shopper = _catalog.Anonymous();
        await CatalogBrowsingTests.PageAsync(shopper, $"search={changing}", ct);
        await CatalogBrowsingTests.PageAsync(shopper, $"search={untouched}", ct);

        // The other product's page is cached: a change behind the cache's back does not show…
        await UpdateBehindTheCacheAsync(other.GetProperty("id").GetInt32(), price: 11m, name: $"Stock probe {untouched}", ct);

        using (var admin = await _catalog.AdminThroughGatewayAsync(ct))
        {
            using var response = await admin.PutAsJsonAsync($"/api/products/items/{product.GetProperty("id").GetInt32()}/stock", new { adjustBy = -2 }, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var changed = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(shopper, $"search={changing}", ct)));
        Assert.Equal(3, changed.GetProperty("availableStock").GetInt32());
        // …and a stock change of another product does not drop it.
        var kept = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(shopper, $"search={untouched}", ct)));
        Assert.Equal(10m, kept.GetProperty("price").GetDecimal());
    }

    /// <summary>
    /// The gateway answers a repeated catalog read from its own memory (<c>Age</c> says so) with the tags products put
    /// on it taken off, signed in or not, and drops the page when products invalidates one
    /// of its tags: for a stock change made through the gateway at once, and for one made by an order over Kafka,
    /// which never passes through the gateway, as soon as products has committed it.
    /// </summary>
    [Fact]
    public async Task The_gateway_serves_repeated_catalog_reads_itself_and_drops_them_when_products_invalidates()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var token = Guid.NewGuid().ToString("N")[..12];
        var product = await _catalog.CreateProductAsync(10, 30m, ct, name: $"Gateway cache probe {token}");
        var id = product.GetProperty("id").GetInt32();
        var page = $"/api/products/items?search={token}";
        using var shopper = _catalog.Anonymous();

        var (first, firstStock) = await ReadStockAsync(shopper, page, ct);
        Assert.Null(first);
        Assert.Equal(10, firstStock);
        Assert.Equal(10, await ReadFromTheGatewayCacheAsync(shopper, page, ct));

        // Straight from products, the page carries its tags for a cache that asks for them; through the gateway it
        // never does, nor to a caller that did not ask.
        using (var direct = await _catalog.AdminDirectAsync(ct))
        {
            using var asked = new HttpRequestMessage(HttpMethod.Get, page);
            asked.Headers.Add("Surrogate-Capability", "shop-gateway=\"Cache-Tag/1.0\"");
            using (var response = await direct.SendAsync(asked, ct))
            {
                Assert.Equal($"catalog product:{id}", Assert.Single(response.Headers.GetValues(CacheTagHeader)));
            }

            using (var response = await direct.GetAsync(page, ct))
            {
                Assert.False(response.Headers.Contains(CacheTagHeader));
            }
        }

        using (var sneaky = new HttpRequestMessage(HttpMethod.Get, $"{page}&pageSize=5"))
        {
            // A client announcing itself as a cache gets no tags either: the gateway does not pass the header on.
            sneaky.Headers.Add("Surrogate-Capability", "shop-gateway=\"Cache-Tag/1.0\"");
            using var response = await shopper.SendAsync(sneaky, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains(CacheTagHeader));
        }

        // A signed-in reader shares the page (products' tags say it is the same for everyone), but the admin's own
        // stock view, untagged, is never kept: read twice by the admin, it is still refused to an anonymous caller.
        using (var admin = await _catalog.AdminThroughGatewayAsync(ct))
        {
            Assert.Equal(10, await ReadFromTheGatewayCacheAsync(admin, page, ct));
            var stockView = $"/api/products/items/{id}/stock";
            for (var i = 0; i < 2; i++)
            {
                using var view = await admin.GetAsync(stockView, ct);
                Assert.Equal(HttpStatusCode.OK, view.StatusCode);
                Assert.Null(view.Headers.Age);
            }

            using (var refused = await shopper.GetAsync(stockView, ct))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            using var change = await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { adjustBy = -3 }, ct);
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        }

        // The admin's change returned only once the gateway had dropped the page.
        var (afterChange, afterChangeStock) = await ReadStockAsync(shopper, page, ct);
        Assert.Equal((null, 7), (afterChange, afterChangeStock));
        Assert.Equal(7, await ReadFromTheGatewayCacheAsync(shopper, page, ct));

        // An order reserves stock through Kafka: products invalidates the product's tag once the reservation commits.
        var orderId = Guid.NewGuid();
        await _catalog.PublishAsync(orderId, ct, OrderEvent.Submitted(orderId, new OrderLine(id, 2, 30m)));
        await _catalog.WaitForReservationAsync(orderId, "Reserved", ct);
        int stock;
        do
        {
            (_, stock) = await ReadStockAsync(shopper, page, ct);
        }
        while (stock != 5 && !await DelayAsync(ct));
        Assert.Equal(5, stock);
    }

    /// <summary>
    /// Redis dies (SIGKILL) under products' cache and the gateway's invalidation channel. Reads go on; with no channel
    /// to hear invalidations on, the gateway keeps nothing, so an admin's change still shows at once (products runs one
    /// replica here, which drops its own memory entries). Once Redis is back the gateway caches again, and a change
    /// made then still drops the page.
    /// </summary>
    [Fact]
    public async Task With_Redis_killed_reads_go_on_an_admins_change_shows_at_once_and_caching_resumes_once_it_is_back()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var token = Guid.NewGuid().ToString("N")[..12];
        var product = await _catalog.CreateProductAsync(10, 30m, ct, name: $"Redis outage probe {token}");
        var stockApi = $"/api/products/items/{product.GetProperty("id").GetInt32()}/stock";
        var page = $"/api/products/items?search={token}";
        using var shopper = _catalog.Anonymous();
        using var admin = await _catalog.AdminThroughGatewayAsync(ct);
        async Task AdjustStockAsync(int by)
        {
            using var change = await admin.PutAsJsonAsync(stockApi, new { adjustBy = by }, ct);
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        }

        Assert.Equal(10, await ReadFromTheGatewayCacheAsync(shopper, page, ct));

        var notifications = _catalog.App.ResourceNotifications;
        var redis = await notifications.WaitForResourceHealthyAsync("cache", ct);
        System.Diagnostics.Process.GetProcessById(redis.Snapshot.ProcessId!.Value).Kill();
        await notifications.WaitForResourceAsync("cache", KnownResourceStates.Exited, ct);

        await AdjustStockAsync(-3);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.Equal((null, 7), await ReadStockAsync(shopper, page, ct));
        }

        await _catalog.App.ResourceCommands.StartAsync("cache", ct);
        await notifications.WaitForResourceHealthyAsync("cache", ct);
        // The gateway resubscribes by itself, within a few seconds of Redis being back, and caches again.
        (TimeSpan? Age, int Stock) read;
        do
        {
            read = await ReadStockAsync(shopper, page, ct);
        }
        while (read.Age is null && !await DelayAsync(ct));
        Assert.Equal(7, read.Stock);

        await AdjustStockAsync(-2);
        Assert.Equal(5, (await ReadStockAsync(shopper, page, ct)).Stock);
    }

    /// <summary>The product's stock on the page, and the page's <c>Age</c> (set only when the gateway answered from its cache).</summary>
    private static async Task<(TimeSpan? Age, int Stock)> ReadStockAsync(HttpClient http, string page, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(page, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{page} answered {(int)response.StatusCode}: {body}");
        var item = Assert.Single(CatalogBrowsingTests.Items(JsonDocument.Parse(body).RootElement));
        return (response.Headers.Age, item.GetProperty("availableStock").GetInt32());
    }

    /// <summary>
    /// The stock on the page once the gateway answers it from its cache. The next read usually is; but any catalog
    /// change elsewhere in the run (another test's new product, or the second pass of its invalidation two seconds
    /// later) drops every page, so the page may have to be read, and stored, again.
    /// </summary>
    private static async Task<int> ReadFromTheGatewayCacheAsync(HttpClient http, string page, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (age, stock) = await ReadStockAsync(http, page, cancellationToken);
            if (age is not null)
            {
                return stock;
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new Xunit.Sdk.XunitException($"The gateway answered none of ten reads of {page} from its cache (no Age header).");
    }

    /// <summary>Waits a little before the next poll; false, so a loop can use it as its condition until the test's timeout.</summary>
    private static async Task<bool> DelayAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(100, cancellationToken);
        return false;
    }

    /// <summary>An admin's change of the product's price (its other fields as created), through the gateway.</summary>
    private async Task ChangePriceAsync(JsonElement created, string name, decimal price, CancellationToken cancellationToken)
    {
        using var admin = await _catalog.AdminThroughGatewayAsync(cancellationToken);
        using var response = await admin.PutAsJsonAsync($"/api/products/items/{created.GetProperty("id").GetInt32()}", new
        {
            name,
            description = created.GetProperty("description").GetString(),
            price,
            brandId = created.GetProperty("brandId").GetInt32(),
            categoryId = created.GetProperty("categoryId").GetInt32(),
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task UpdateBehindTheCacheAsync(int id, decimal price, string name, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(await _catalog.App.GetConnectionStringAsync("productsdb", cancellationToken));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""UPDATE "Products" SET "Price" = $1, "Name" = $2 WHERE "Id" = $3""", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = price });
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        Assert.Equal(1, await command.ExecuteNonQueryAsync(cancellationToken));
    }
}
