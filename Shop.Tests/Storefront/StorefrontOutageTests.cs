using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Shop.Hosting.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Storefront;

/// <summary>The storefront while a backend service is down: what still works keeps working, the rest says so plainly.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class StorefrontOutageTests(ShopAppFixture shop, ITestOutputHelper output) : StorefrontTest(shop, output)
{
    [Fact]
    public async Task While_ordering_is_down_the_catalog_and_cart_work_orders_say_so_and_the_retried_checkout_places_one_order()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var (product, user, page) = await OpenCheckoutAsync("storefront-outage", price: 4.75m, quantity: 2, ct);
        var idempotencyKey = await page.Locator("input[name='Form.IdempotencyKey']").InputValueAsync();

        await Shop.App.ResourceCommands.StopAsync("ordering", ct);
        try
        {
            // The checkout page was open when ordering went down: placing the order fails, plainly, and nothing is lost.
            await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
            await Expect(page.Locator(".notice-error")).ToContainTextAsync("Your order was not placed. Ordering is unavailable right now.");
            await Expect(page.Locator(".cart-count")).ToHaveTextAsync("2");
            Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-checkout-ordering-down")}");

            await page.GotoAsync(Store.Url($"/?q={product.Word}"));
            await Expect(page.Locator(".product .name")).ToHaveTextAsync(product.Name);

            await page.Locator("a.cart-link").ClickAsync();
            await Expect(page.Locator(".cart-total")).ToHaveTextAsync("$9.50");
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Proceed to checkout" })).ToBeVisibleAsync();

            await page.GetByRole(AriaRole.Link, new() { Name = "Orders", Exact = true }).ClickAsync();
            await Expect(page.Locator(".notice-warning")).ToContainTextAsync("Your orders can't be shown right now.");
            Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-orders-ordering-down")}");
        }
        finally
        {
            await Shop.App.EnsureRunningAsync("ordering");
        }

        // Back up: the same checkout attempt, with the same Idempotency-Key, places the order, once.
        await page.GotoAsync(Store.Url("/checkout"));
        Assert.Equal(idempotencyKey, await page.Locator("input[name='Form.IdempotencyKey']").InputValueAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/orders/[0-9a-f-]{36}\\?placed=true$"));
        await Store.ExpectConfirmedAsync(page, user, ct);
        var order = Assert.Single(await Store.OrdersOfAsync(user, ct));
        Assert.Equal(StorefrontDriver.OrderIdOf(page.Url), order.GetProperty("id").GetGuid());
    }
}
