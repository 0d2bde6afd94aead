using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Storefront;

/// <summary>Browsing the catalog in a real browser: search, filters, sorting and paging, with the state in the address.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class StorefrontCatalogTests(ShopAppFixture shop, ITestOutputHelper output) : StorefrontTest(shop, output)
{
    [Fact]
    public async Task A_shopper_searches_filters_sorts_and_pages_the_catalog_and_links_and_Back_bring_each_listing_back()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var product = await Store.CreateProductAsync(price: 23.45m, stock: 7, timeout.Token, brandIndex: 1);
        var page = await Browser.NewPageAsync();

        await page.GotoAsync(Store.Url("/"));
        await Expect(page.Locator(".product").First).ToBeVisibleAsync();
        await StorefrontDriver.WaitForPictureAsync(page, ".product img");
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-catalog")}");

        // Full-text search through the products API: the made-up word finds the one product that has it.
        await page.GetByLabel("Search the catalog").FillAsync(product.Word);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Store.Url($"/?q={product.Word}"));
        await Expect(page.Locator(".product")).ToHaveCountAsync(1);
        await Expect(page.Locator(".product .name")).ToHaveTextAsync(product.Name);
        await Expect(page.Locator(".product .price")).ToHaveTextAsync(StorefrontDriver.Dollar(product.Price));
        await Expect(page.Locator(".product .availability")).ToHaveTextAsync("In stock");
        await Expect(page.Locator(".result-count")).ToHaveTextAsync($"1 product for “{product.Word}”");
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-catalog-search")}");

        // A filter applies as soon as it is chosen, and joins the search in the address.
        await page.GetByLabel("Brand").SelectOptionAsync(product.BrandId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var filtered = Store.Url($"/?q={product.Word}&brand={product.BrandId}");
        await Expect(page).ToHaveURLAsync(filtered);
        await Expect(page.GetByLabel("Brand").Locator("option:checked")).ToHaveTextAsync(product.Brand);
        await Expect(page.Locator(".product .name")).ToHaveTextAsync(product.Name);

        // A price range below the product's price leaves nothing; Back returns to the listing before it.
        await page.GetByLabel("Maximum price").FillAsync("20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(filtered + "&max=20");
        await Expect(page.Locator(".empty")).ToContainTextAsync("No products match.");
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(filtered);
        await Expect(page.Locator(".product .name")).ToHaveTextAsync(product.Name);

        // Sorting the whole catalog by price, highest first.
        await page.GotoAsync(Store.Url("/"));
        await page.GetByLabel("Sort by").SelectOptionAsync("price_desc");
        await Expect(page).ToHaveURLAsync(Store.Url("/?sort=price_desc"));
        await Expect(page.Locator(".product")).ToHaveCountAsync(12);
        var prices = await StorefrontDriver.PricesAsync(page.Locator(".product .price"));
        Assert.Equal(prices.OrderByDescending(p => p), prices);

        // Paging keeps the order; each page has its own address, and Back returns to the first.
        await page.GetByRole(AriaRole.Link, new() { Name = "Next →" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(Store.Url("/?sort=price_desc&page=2"));
        await Expect(page.Locator(".pager .position")).ToHaveTextAsync(new Regex("^Page 2 of [0-9]+$"));
        var secondPage = await StorefrontDriver.PricesAsync(page.Locator(".product .price"));
        Assert.Equal(secondPage.OrderByDescending(p => p), secondPage);
        Assert.True(secondPage[0] <= prices[^1], $"Page 2 starts at {secondPage[0]}, above page 1's last price {prices[^1]}.");
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(Store.Url("/?sort=price_desc"));
        await Expect(page.Locator(".pager .position")).ToHaveTextAsync(new Regex("^Page 1 of [0-9]+$"));
    }

    [Fact]
    public async Task The_product_page_shows_picture_description_price_and_stock_and_an_unknown_product_is_not_found()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var product = await Store.CreateProductAsync(price: 5.5m, stock: 3, timeout.Token);
        var page = await Browser.NewPageAsync();

        await page.GotoAsync(Store.Url("/"));
        await page.GetByLabel("Search the catalog").FillAsync(product.Word);
        await page.GetByLabel("Search the catalog").PressAsync("Enter");
        await page.GetByRole(AriaRole.Link, new() { Name = product.Name }).ClickAsync();

        await Expect(page).ToHaveURLAsync(Store.Url($"/products/{product.Id}"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = product.Name })).ToBeVisibleAsync();
        await Expect(page.Locator(".description")).ToHaveTextAsync("A lantern made by a storefront test.");
        await Expect(page.Locator(".details .price")).ToHaveTextAsync("$5.50");
        await Expect(page.Locator(".details .availability")).ToHaveTextAsync("Only 3 left");
        await StorefrontDriver.WaitForPictureAsync(page, "img.hero");
        await Expect(page.GetByLabel("Quantity")).ToHaveAttributeAsync("max", "3");
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-product")}");

        var missing = await page.GotoAsync(Store.Url("/products/987654321"));
        Assert.Equal(404, missing!.Status);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
    }
}
