using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Shop.Tests.Identity;
using Xunit.Abstractions;

namespace Shop.Tests.Products;

/// <summary>Catalog and stock changes: admins only, validated, and each announced on the catalog topic through the outbox.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CatalogAdminTests
{
    private readonly CatalogDriver _catalog;

    public CatalogAdminTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        shop.Output = output;
        _catalog = new CatalogDriver(shop.App);
    }

    private static readonly (HttpMethod Method, string Path, object? Body)[] AdminEndpoints =
    [
        (HttpMethod.Post, "/api/products/items", new { name = "Not allowed", price = 1m, brandId = 1, categoryId = 1 }),
        (HttpMethod.Put, "/api/products/items/1", new { name = "Not allowed", price = 1m, brandId = 1, categoryId = 1 }),
        (HttpMethod.Delete, "/api/products/items/1", null),
        (HttpMethod.Put, "/api/products/items/1/stock", new { availableStock = 0 }),
        (HttpMethod.Get, "/api/products/items/1/stock", null),
        (HttpMethod.Get, $"/api/products/reservations/{Guid.NewGuid()}", null),
        (HttpMethod.Get, "/api/products/dead-letters", null),
    ];

    [Fact]
    public async Task Changes_and_stock_are_for_admins_anonymous_callers_get_401_and_customers_403_through_the_gateway_or_not()
    {
        var ct = Timeout();
        var customer = await _catalog.Identity.SignInAsync(ShopIdentityClient.DemoCustomer, ct);
        var stockBefore = await _catalog.StockAsync(1, ct);

        foreach (var resource in (string[])["gateway", "products"])
        {
            foreach (var (token, status) in new[] { ((string?)null, HttpStatusCode.Unauthorized), (customer.AccessToken, HttpStatusCode.Forbidden) })
            {
                using var http = _catalog.Identity.CreateClient(resource, token);
                foreach (var (method, path, body) in AdminEndpoints)
                {
                    using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
                    using var response = await http.SendAsync(request, ct);
                    var problem = await ProblemAssert.IsProblemAsync(response, status, ct);
                    Assert.True(problem.ValueKind == JsonValueKind.Object, $"{method} {path} via {resource}");
                }
            }
        }

        // Nothing those requests asked for happened.
        Assert.Equal(stockBefore, await _catalog.StockAsync(1, ct));
        using var shopper = _catalog.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await shopper.GetAsync("/api/products/items/1", ct)).StatusCode);
    }

    [Fact]
    public async Task Invalid_changes_get_400_problems_naming_each_field()
    {
        var ct = Timeout();
        using var admin = await _catalog.AdminThroughGatewayAsync(ct);
        var product = await _catalog.CreateProductAsync(5, 10m, ct);
        var id = product.GetProperty("id").GetInt32();

        await AssertFieldsAsync(await admin.PostAsJsonAsync("/api/products/items", new { name = " ", price = -1m, brandId = 2147483647 }, ct),
            ["brandId", "categoryId", "name", "price"], ct);
        await AssertFieldsAsync(await admin.PostAsJsonAsync("/api/products/items", new { name = "Fine", price = 9.999m, brandId = 1, categoryId = 1, availableStock = -3 }, ct),
            ["availableStock", "price"], ct);
        await AssertFieldsAsync(await admin.PutAsJsonAsync($"/api/products/items/{id}", new { name = new string('n', 101), price = 1m, brandId = 1, categoryId = 2147483647 }, ct),
            ["categoryId", "name"], ct);
        await AssertFieldsAsync(await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { availableStock = 3, adjustBy = 1 }, ct), ["adjustBy"], ct);
        await AssertFieldsAsync(await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { }, ct), ["availableStock"], ct);

        using var malformed = await admin.PostAsync("/api/products/items", new StringContent("{\"name\": \"x\", \"price\": ", Encoding.UTF8, "application/json"), ct);
        await ProblemAssert.IsProblemAsync(malformed, HttpStatusCode.BadRequest, ct);
        using var wrongType = await admin.PutAsync($"/api/products/items/{id}/stock", new StringContent("{\"adjustBy\": \"many\"}", Encoding.UTF8, "application/json"), ct);
        var problem = await ProblemAssert.IsProblemAsync(wrongType, HttpStatusCode.BadRequest, ct);
        Assert.Contains("adjustBy", problem.GetProperty("detail").GetString());

        // None of it changed the product.
        Assert.Equal((5, 0), await _catalog.StockAsync(id, ct));
        using var shopper = _catalog.Anonymous();
        Assert.Equal(product.GetProperty("name").GetString(),
            (await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct)).GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_name_with_a_nul_is_refused_naming_it_and_the_creates_around_it_all_succeed()
    {
        // The tester's sequence: four creates, a fifth with a NUL (the execution at which Npgsql auto-prepares the
        // insert on that connection), then more. The NUL used to reach PostgreSQL, and the next create got a 500.
        var ct = Timeout();
        using var admin = await _catalog.AdminThroughGatewayAsync(ct);
        object Product(string name) => new { name, price = 12m, brandId = 1, categoryId = 8 };

        for (var i = 0; i < 4; i++)
        {
            using var before = await admin.PostAsJsonAsync("/api/products/items", Product($"NUL neighbour {i}"), ct);
            Assert.Equal(HttpStatusCode.Created, before.StatusCode);
        }

        using var refused = await admin.PostAsync("/api/products/items", new StringContent(
            """{"name":"Re\u0000pro","price":12,"brandId":1,"categoryId":8}""", Encoding.UTF8, "application/json"), ct);
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, ct);
        Assert.Equal("The request contains text that cannot be stored.", problem.GetProperty("title").GetString());
        Assert.StartsWith("The value at '$.name' contains a NUL character", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        for (var i = 4; i < 7; i++)
        {
            using var after = await admin.PostAsJsonAsync("/api/products/items", Product($"NUL neighbour {i}"), ct);
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        }
    }

    [Fact]
    public async Task An_admin_creates_changes_and_deletes_a_product_and_every_change_is_published()
    {
        var ct = Timeout();
        using var admin = await _catalog.AdminThroughGatewayAsync(ct);
        using var shopper = _catalog.Anonymous();
        var token = Guid.NewGuid().ToString("N")[..12];
        var brands = await shopper.GetFromJsonAsync<JsonElement>("/api/products/brands", ct);
        var categories = await shopper.GetFromJsonAsync<JsonElement>("/api/products/categories", ct);
        var (brand, otherBrand) = (brands[1], brands[2]);
        var category = categories[1];

        using var created = await admin.PostAsJsonAsync("/api/products/items", new
        {
            name = $"Lifecycle {token}",
            description = "Made to be changed and deleted.",
            price = 30m,
            brandId = brand.GetProperty("id").GetInt32(),
            categoryId = category.GetProperty("id").GetInt32(),
            availableStock = 4,
        }, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var product = await created.Content.ReadFromJsonAsync<JsonElement>(ct);
        var id = product.GetProperty("id").GetInt32();
        Assert.Equal($"/api/products/items/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(brand.GetProperty("name").GetString(), product.GetProperty("brand").GetString());
        Assert.Equal(4, product.GetProperty("availableStock").GetInt32());

        using (var updated = await admin.PutAsJsonAsync($"/api/products/items/{id}", new
        {
            name = $"Lifecycle {token} v2",
            description = "Changed.",
            price = 27.5m,
            brandId = otherBrand.GetProperty("id").GetInt32(),
            categoryId = category.GetProperty("id").GetInt32(),
        }, ct))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        var shown = await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/{id}", ct);
        Assert.Equal($"Lifecycle {token} v2", shown.GetProperty("name").GetString());
        Assert.Equal(otherBrand.GetProperty("name").GetString(), shown.GetProperty("brand").GetString());
        Assert.Equal(27.5m, shown.GetProperty("price").GetDecimal());

        using (var deleted = await admin.DeleteAsync($"/api/products/items/{id}", ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await ProblemAssert.IsProblemAsync(await shopper.GetAsync($"/api/products/items/{id}", ct), HttpStatusCode.NotFound, ct);
        Assert.Equal(0, (await CatalogBrowsingTests.PageAsync(shopper, $"search={token}", ct)).GetProperty("count").GetInt64());
        Assert.Empty((await shopper.GetFromJsonAsync<JsonElement>($"/api/products/items/by?ids={id}", ct)).EnumerateArray());
        await ProblemAssert.IsProblemAsync(await admin.DeleteAsync($"/api/products/items/{id}", ct), HttpStatusCode.NotFound, ct);
        await ProblemAssert.IsProblemAsync(await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { adjustBy = 1 }, ct), HttpStatusCode.NotFound, ct);
        // Orders placed before still show its picture, as it was last.
        using (var picture = await shopper.GetAsync($"/api/products/items/{id}/pic", ct))
        {
            Assert.Equal(HttpStatusCode.OK, picture.StatusCode);
            Assert.Equal("image/svg+xml", picture.Content.Headers.ContentType?.MediaType);
            Assert.Contains($">#{id}</text>", await picture.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        await ProblemAssert.IsProblemAsync(await shopper.GetAsync("/api/products/items/987654321/pic", ct), HttpStatusCode.NotFound, ct);

        // The outbox published each change on the catalog topic, keyed by the product, in order.
        var published = await EventuallyAsync(
            () => _catalog.PublishedAsync(CatalogDriver.CatalogTopic, id.ToString(System.Globalization.CultureInfo.InvariantCulture), ct),
            events => events.Count >= 4, "the product's four events", ct);
        Assert.Equal(
            ["ProductChangedIntegrationEvent", "ProductChangedIntegrationEvent", "ProductPriceChangedIntegrationEvent", "ProductChangedIntegrationEvent"],
            published.Select(e => e.Type));
        var (_, first) = published[0];
        Assert.Equal($"Lifecycle {token}", first.GetProperty("name").GetString());
        Assert.Equal(brand.GetProperty("name").GetString(), first.GetProperty("brand").GetString());
        Assert.Equal($"/api/products/items/{id}/pic", first.GetProperty("pictureUrl").GetString());
        Assert.Equal(30m, first.GetProperty("price").GetDecimal());
        Assert.False(first.GetProperty("deleted").GetBoolean());
        Assert.Equal(27.5m, published[1].Payload.GetProperty("price").GetDecimal());
        Assert.Equal((30m, 27.5m), (published[2].Payload.GetProperty("oldPrice").GetDecimal(), published[2].Payload.GetProperty("newPrice").GetDecimal()));
        Assert.True(published[3].Payload.GetProperty("deleted").GetBoolean());
    }

    [Fact]
    public async Task Stock_is_set_or_adjusted_and_never_taken_below_zero()
    {
        var ct = Timeout();
        using var admin = await _catalog.AdminThroughGatewayAsync(ct);
        var id = (await _catalog.CreateProductAsync(0, 10m, ct)).GetProperty("id").GetInt32();

        var set = await (await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { availableStock = 10 }, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal(10, set.GetProperty("availableStock").GetInt32());
        var adjusted = await (await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { adjustBy = -4 }, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal((6, 0, 6), (adjusted.GetProperty("availableStock").GetInt32(), adjusted.GetProperty("reservedStock").GetInt32(), adjusted.GetProperty("onHand").GetInt32()));

        using var tooMany = await admin.PutAsJsonAsync($"/api/products/items/{id}/stock", new { adjustBy = -7 }, ct);
        var problem = await ProblemAssert.IsProblemAsync(tooMany, HttpStatusCode.Conflict, ct);
        Assert.Equal(6, problem.GetProperty("availableStock").GetInt32());
        Assert.Equal((6, 0), await _catalog.StockAsync(id, ct));
    }

    [Fact]
    public async Task A_message_products_cannot_read_lands_in_its_dead_letters_for_admins_to_inspect()
    {
        var ct = Timeout();
        using var admin = await _catalog.AdminThroughGatewayAsync(ct);
        var (orderId, eventId) = (Guid.NewGuid(), Guid.NewGuid());
        var kafka = await Hosting.Testing.DistributedApplicationTestingExtensions.GetKafkaClientConfigAsync(_catalog.App, "kafka", ct);
        await Kcat.ProduceAsync(kafka, CatalogDriver.OrdersTopic,
            new Dictionary<string, string> { ["event-type"] = "OrderSubmittedIntegrationEvent", ["event-id"] = eventId.ToString() },
            [(orderId.ToString(), $"{{\"id\": \"{eventId}\", \"orderId\": \"{orderId}\", \"lines\": \"not a list\"}}")], ct);

        var letter = await EventuallyAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>("/api/products/dead-letters?status=all&limit=500", ct))
                .EnumerateArray().Where(d => d.GetProperty("eventId").GetString() == eventId.ToString()).Select(d => d.Clone()).ToList(),
            letters => letters.Count == 1, "the dead letter", ct);
        Assert.Equal(CatalogDriver.OrdersTopic, letter[0].GetProperty("originTopic").GetString());
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/products/dead-letters/{letter[0].GetProperty("id").GetGuid()}", ct);
        Assert.Contains(orderId.ToString(), details.GetRawText());
        Assert.Null(await _catalog.ReservationStatusAsync(orderId, ct));
    }

    private static async Task AssertFieldsAsync(HttpResponseMessage response, string[] fields, CancellationToken cancellationToken)
    {
        using (response)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, cancellationToken);
            Assert.Equal(fields, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
        }
    }

    internal static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, CancellationToken cancellationToken)
    {
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}.");
            }
        }
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
