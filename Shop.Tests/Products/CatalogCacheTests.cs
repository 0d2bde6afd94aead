using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Tests.Products;

/// <summary>Issue 6, item 8: catalog reads come from the cache after the first one, and an admin's change shows at once.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CatalogCacheTests
{
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

        using (var admin = await _catalog.AdminThroughGatewayAsync(ct))
        {
            using var response = await admin.PutAsJsonAsync($"/api/products/items/{id}", new
            {
                name = $"Cache probe {token}",
                description = created.GetProperty("description").GetString(),
                price = 25m,
                brandId = created.GetProperty("brandId").GetInt32(),
                categoryId = created.GetProperty("categoryId").GetInt32(),
            }, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Immediately after the admin's change, with no wait: the listing and the product show the new price.
        var changed = Assert.Single(CatalogBrowsingTests.Items(await CatalogBrowsingTests.PageAsync(shopper, listing, ct)));
        Assert.Equal(25m, changed.GetProperty("price").GetDecimal());
        Assert.Equal(25m, (await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct)).GetProperty("price").GetDecimal());
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
