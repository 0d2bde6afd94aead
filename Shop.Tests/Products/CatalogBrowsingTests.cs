using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shop.Tests.Identity;
using Xunit.Abstractions;

namespace Shop.Tests.Products;

/// <summary>The Development catalog as a shopper browses it through the gateway: search, filters, sorting, paging, pictures.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CatalogBrowsingTests
{
    private readonly CatalogDriver _catalog;

    public CatalogBrowsingTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        shop.Output = output;
        _catalog = new CatalogDriver(shop.App);
    }

    [Fact]
    public async Task The_seeded_catalog_is_searched_by_words_and_word_prefixes_across_name_brand_and_category()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();

        var all = await PageAsync(http, "", ct);
        Assert.True(all.GetProperty("count").GetInt64() >= 100, "The Development seed has about a hundred products.");

        Assert.Equal("Trail Hammock with Bug Net", Names(await PageAsync(http, "search=hammock", ct)).First());
        Assert.Equal("Trail Hammock with Bug Net", Names(await PageAsync(http, "search=HAMM", ct)).First());

        // A brand's name and a category's name find the products they have in common.
        var northridgeJackets = await PageAsync(http, "search=northridge%20jackets&pageSize=50", ct);
        Assert.Contains("Summit Down Jacket", Names(northridgeJackets));
        Assert.All(Items(northridgeJackets), item => Assert.Equal("Northridge", item.GetProperty("brand").GetString()));

        var nothing = await PageAsync(http, "search=zqxjkvw", ct);
        Assert.Equal(0, nothing.GetProperty("count").GetInt64());
        Assert.Empty(Items(nothing));
    }

    [Fact]
    public async Task Brand_category_and_price_filters_combine()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();
        var fjellstad = await FacetIdAsync(http, "brands", "Fjellstad", ct);
        var climbing = await FacetIdAsync(http, "categories", "Climbing", ct);

        var page = await PageAsync(http, $"brandId={fjellstad}&categoryId={climbing}&pageSize=100", ct);
        Assert.Equal(["Aluminium Ice Axe", "Steel Crampons 12-Point"], Names(page));

        var cheaper = await PageAsync(http, $"brandId={fjellstad}&categoryId={climbing}&minPrice=100&maxPrice=150", ct);
        Assert.Equal(["Aluminium Ice Axe"], Names(cheaper));
        Assert.Equal(1, cheaper.GetProperty("count").GetInt64());

        var anyBrand = await PageAsync(http, $"categoryId={climbing}&maxPrice=30&pageSize=100", ct);
        Assert.NotEmpty(Items(anyBrand));
        Assert.All(Items(anyBrand), item =>
        {
            Assert.Equal("Climbing", item.GetProperty("category").GetString());
            Assert.InRange(item.GetProperty("price").GetDecimal(), 0m, 30m);
        });
    }

    [Fact]
    public async Task Listings_sort_by_name_price_and_newest()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();
        var tents = await FacetIdAsync(http, "categories", "Tents", ct);

        var byName = Names(await PageAsync(http, $"categoryId={tents}&sort=name&pageSize=100", ct));
        Assert.Equal(10, byName.Count);
        Assert.Equal(byName.Order(StringComparer.Ordinal), byName);
        Assert.Equal(byName.AsEnumerable().Reverse(), Names(await PageAsync(http, $"categoryId={tents}&sort=name_desc&pageSize=100", ct)));

        var byPrice = Prices(await PageAsync(http, $"categoryId={tents}&sort=price&pageSize=100", ct));
        Assert.Equal(byPrice.Order(), byPrice);
        var byPriceDesc = Prices(await PageAsync(http, $"categoryId={tents}&sort=price_desc&pageSize=100", ct));
        Assert.Equal(byPriceDesc.OrderDescending(), byPriceDesc);

        var older = await _catalog.CreateProductAsync(1, 10m, ct);
        var newer = await _catalog.CreateProductAsync(1, 10m, ct);
        var newest = Items(await PageAsync(http, "sort=newest&pageSize=2", ct)).Select(i => i.GetProperty("id").GetInt32()).ToList();
        Assert.Equal([newer.GetProperty("id").GetInt32(), older.GetProperty("id").GetInt32()], newest);
    }

    [Fact]
    public async Task Pages_walk_a_listing_without_gaps_or_repeats_and_report_its_size()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();
        var jackets = await FacetIdAsync(http, "categories", "Jackets", ct);
        var whole = Names(await PageAsync(http, $"categoryId={jackets}&sort=price&pageSize=100", ct));

        var walked = new List<string>();
        for (var pageIndex = 0; pageIndex < 4; pageIndex++)
        {
            var page = await PageAsync(http, $"categoryId={jackets}&sort=price&pageSize=3&pageIndex={pageIndex}", ct);
            Assert.Equal(10, page.GetProperty("count").GetInt64());
            Assert.Equal(pageIndex, page.GetProperty("pageIndex").GetInt32());
            Assert.Equal(3, page.GetProperty("pageSize").GetInt32());
            walked.AddRange(Names(page));
        }

        Assert.Equal(whole, walked);
        var past = await PageAsync(http, $"categoryId={jackets}&pageSize=3&pageIndex=4", ct);
        Assert.Empty(Items(past));
        Assert.Equal(10, past.GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("pageSize=101", "pageSize")]
    [InlineData("pageIndex=-1", "pageIndex")]
    [InlineData("sort=popularity", "sort")]
    [InlineData("sort=relevance", "sort")]
    [InlineData("minPrice=-1", "minPrice")]
    [InlineData("minPrice=50&maxPrice=10", "maxPrice")]
    [InlineData("brandId=0", "brandId")]
    [InlineData("search=%21%3F%21", "search")]
    [InlineData("pageIndex=abc", "pageIndex")]
    [InlineData("minPrice=cheap", "minPrice")]
    public async Task Bad_listing_parameters_get_a_400_problem_naming_the_parameter(string query, string parameter)
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();

        using var response = await http.GetAsync($"/api/products/items?{query}", ct);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ct);
        // Values the service checks are keyed by parameter; values that are not even numbers are refused while binding,
        // and that problem names the parameter as the C# record does (PageIndex for pageIndex).
        var named = problem.TryGetProperty("errors", out var errors)
            ? errors.TryGetProperty(parameter, out _)
            : problem.GetProperty("detail").GetString()!.Contains(parameter, StringComparison.OrdinalIgnoreCase);
        Assert.True(named, $"The problem does not name {parameter}: {problem.GetRawText()}");
    }

    [Fact]
    public async Task Pictures_are_generated_svg_with_caching_headers_and_revalidate_by_etag()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();
        var item = Items(await PageAsync(http, "search=hammock", ct)).First();
        var pictureUrl = item.GetProperty("pictureUrl").GetString()!;

        using var response = await http.GetAsync(pictureUrl, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl is { Public: true, MaxAge: not null }, $"Cache-Control: {response.Headers.CacheControl}");
        var etag = response.Headers.ETag ?? throw new Xunit.Sdk.XunitException("The picture has no ETag.");
        var svg = await response.Content.ReadAsStringAsync(ct);
        Assert.StartsWith("<svg", svg);
        Assert.Contains("Trail Hammock", svg);

        using var revalidation = new HttpRequestMessage(HttpMethod.Get, pictureUrl);
        revalidation.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(revalidation, ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var missing = await http.GetAsync("/api/products/items/2147483647/pic", ct);
        await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.NotFound, ct);
    }

    [Fact]
    public async Task Items_by_id_gives_ordering_what_it_prices_carts_with()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();
        var first = Items(await PageAsync(http, "sort=price&pageSize=2", ct)).Select(i => i.GetProperty("id").GetInt32()).ToList();

        var items = await http.GetFromJsonAsync<JsonElement>($"/api/products/items/by?ids={first[1]}&ids={first[0]}&ids=2147483647", ct);

        Assert.Equal(first.Order(), items.EnumerateArray().Select(i => i.GetProperty("id").GetInt32()));
        foreach (var item in items.EnumerateArray())
        {
            foreach (var field in (string[])["name", "description", "brand", "category", "pictureFileName"])
            {
                Assert.False(string.IsNullOrEmpty(item.GetProperty(field).GetString()), field);
            }

            Assert.True(item.GetProperty("price").GetDecimal() > 0);
            Assert.True(item.GetProperty("availableStock").GetInt32() >= 0);
            Assert.Equal($"/api/products/items/{item.GetProperty("id").GetInt32()}/pic", item.GetProperty("pictureUrl").GetString());
        }

        using var none = await http.GetAsync("/api/products/items/by", ct);
        var problem = await ProblemAssert.IsProblemAsync(none, HttpStatusCode.BadRequest, ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty("ids", out _));
    }

    [Fact]
    public async Task An_unknown_product_gets_a_404_problem()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();

        using var response = await http.GetAsync("/api/products/items/2147483647", ct);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, ct);
    }

    [Fact]
    public async Task HEAD_answers_wherever_GET_does_with_no_body_a_cached_HEAD_never_empties_a_GET_and_other_methods_get_405()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();

        foreach (var path in new[] { "/api/products/items?pageSize=3", "/api/products/items/1", "/api/products/brands" })
        {
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), ct);
            Assert.True(head.StatusCode == HttpStatusCode.OK, $"HEAD {path} answered {(int)head.StatusCode}");
            Assert.Equal("application/json", head.Content.Headers.ContentType?.MediaType);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync(ct));

            // The gateway caches catalog reads: the HEAD's empty answer must not be what a GET gets next.
            using var get = await http.GetAsync(path, ct);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.NotEqual(JsonValueKind.Undefined, JsonDocument.Parse(await get.Content.ReadAsStringAsync(ct)).RootElement.ValueKind);
        }

        // A method no route takes on a path that exists is the gateway's 405 with Allow, not a 404.
        using var trace = await http.SendAsync(new HttpRequestMessage(HttpMethod.Trace, "/api/products/items/1"), ct);
        await ProblemAssert.IsProblemAsync(trace, HttpStatusCode.MethodNotAllowed, ct);
        Assert.Contains("GET", trace.Content.Headers.Allow);
    }

    [Fact]
    public async Task The_public_OpenAPI_document_names_no_internal_server()
    {
        var ct = Timeout();
        using var http = _catalog.Anonymous();

        var document = await http.GetFromJsonAsync<JsonElement>("/api/products/openapi/v1.json", ct);

        var server = Assert.Single(document.GetProperty("servers").EnumerateArray());
        Assert.Equal("/", server.GetProperty("url").GetString());
    }

    internal static async Task<JsonElement> PageAsync(HttpClient http, string query, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/api/products/items?{query}", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/api/products/items?{query} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static List<JsonElement> Items(JsonElement page) => [.. page.GetProperty("data").EnumerateArray()];

    private static List<string> Names(JsonElement page) => [.. Items(page).Select(i => i.GetProperty("name").GetString()!)];

    private static List<decimal> Prices(JsonElement page) => [.. Items(page).Select(i => i.GetProperty("price").GetDecimal())];

    private static async Task<int> FacetIdAsync(HttpClient http, string facet, string name, CancellationToken cancellationToken) =>
        (await http.GetFromJsonAsync<JsonElement>($"/api/products/{facet}", cancellationToken)).EnumerateArray()
            .Single(f => f.GetProperty("name").GetString() == name).GetProperty("id").GetInt32();

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
