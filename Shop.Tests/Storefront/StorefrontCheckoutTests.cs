using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Shop.Hosting.Testing;
using Shop.Tests.Checkout;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shop.Tests.Storefront;

/// <summary>A shopper's way from cart to confirmed order in a real browser: sign-in on the way, idempotent checkout, live order page.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class StorefrontCheckoutTests(ShopAppFixture shop, ITestOutputHelper output) : StorefrontTest(shop, output)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await Shop.App.ResourceNotifications.WaitForResourceHealthyAsync("payment-gateway", timeout.Token);
    }

    [Fact]
    public async Task A_visitor_fills_a_cart_signs_in_at_checkout_places_the_order_and_watches_it_confirm_live()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var lantern = await Store.CreateProductAsync(price: 12.50m, stock: 5, ct);
        var candle = await Store.CreateProductAsync(price: 7.25m, stock: 5, ct);
        var extra = await Store.CreateProductAsync(price: 99m, stock: 5, ct);
        var user = await Store.Identity.RegisterAsync("storefront-checkout", ct);
        var page = await Browser.NewPageAsync();

        // Before signing in: a visitor's cart.
        await Store.AddToCartAsync(page, lantern, 2);
        await Expect(page.Locator(".cart-count")).ToHaveTextAsync("2");
        await Store.AddToCartAsync(page, candle, 1);
        await Store.AddToCartAsync(page, extra, 1);
        await Expect(page.Locator(".cart-count")).ToHaveTextAsync("4");

        await page.Locator("a.cart-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(Store.Url("/cart"));
        await Expect(page.Locator(".cart-line")).ToHaveCountAsync(3);
        await Expect(page.Locator(".cart-total")).ToHaveTextAsync("$131.25");
        await page.Locator($".cart-line[data-product-id='{extra.Id}']").GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator(".cart-line")).ToHaveCountAsync(2);
        await Expect(page.Locator(".cart-total")).ToHaveTextAsync("$32.25");
        await Expect(page.Locator(".cart-count")).ToHaveTextAsync("3");

        // More than the stock: the line says so and checkout waits until it is fixed.
        await page.GetByLabel($"Quantity of {candle.Name}").FillAsync("9");
        await page.Locator($".cart-line[data-product-id='{candle.Id}']").GetByRole(AriaRole.Button, new() { Name = "Update" }).ClickAsync();
        await Expect(page.Locator($".cart-line[data-product-id='{candle.Id}'] .line-problem")).ToHaveTextAsync("Only 5 left. Please lower the quantity.");
        await Expect(page.Locator("a.checkout")).ToHaveCountAsync(0);
        await page.GetByLabel($"Quantity of {candle.Name}").FillAsync("3");
        await page.Locator($".cart-line[data-product-id='{candle.Id}']").GetByRole(AriaRole.Button, new() { Name = "Update" }).ClickAsync();
        await Expect(page.Locator(".line-problem")).ToHaveCountAsync(0);
        await Expect(page.Locator(".cart-total")).ToHaveTextAsync("$46.75");
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-cart")}");

        // Checkout needs a signed-in user: sign in on the way, and come back to checkout with the same cart.
        await page.GetByRole(AriaRole.Link, new() { Name = "Proceed to checkout" }).ClickAsync();
        await Store.SignInOnLoginPageAsync(page, user);
        await Expect(page).ToHaveURLAsync(Store.Url("/checkout"));
        await Expect(page.Locator(".checkout-line")).ToHaveCountAsync(2);
        await Expect(page.Locator(".checkout-total")).ToHaveTextAsync("$46.75");
        await Expect(page.Locator(".cart-count")).ToHaveTextAsync("5");
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-checkout")}");

        Guid orderId;
        // The card gateway fails every call for a while, so the order is seen waiting for its payment before it confirms.
        await using (await Store.Checkout.Simulator.ChangeAsync(new { failureRate = 1.0 }, ct))
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/orders/[0-9a-f-]{36}\\?placed=true$"));
            orderId = StorefrontDriver.OrderIdOf(page.Url);
            await Store.ExpectStatusAsync(page, user, "Awaiting payment", ct);
            await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "live");
            await Expect(page.Locator(".notice-success")).ToContainTextAsync("Thank you!");
            Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-order-awaiting-payment")}");
            await page.EvaluateAsync("() => window.storefrontTestMark = 'this document'");
        }

        // Payment recovers: the status stream moves the same page on to Confirmed, without a reload.
        await Store.ExpectConfirmedAsync(page, user, ct);
        Assert.Equal("this document", await page.EvaluateAsync<string?>("() => window.storefrontTestMark ?? null"));
        await Expect(page.Locator(".history li")).ToHaveCountAsync(4);
        await Expect(page.Locator(".payment[data-kind='Charge'] .payment-status")).ToHaveTextAsync("Succeeded");
        await Expect(page.Locator(".order-total")).ToHaveTextAsync("$46.75");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel order" })).ToHaveCountAsync(0);
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-order-confirmed")}");

        // The order is in the list, confirmed; the cart was cleared when the order was accepted.
        await page.GetByRole(AriaRole.Link, new() { Name = "Orders", Exact = true }).ClickAsync();
        var row = page.Locator($".order-row[data-order-id='{orderId}']");
        await Expect(row.Locator(".status")).ToHaveTextAsync("Confirmed");
        await Expect(row).ToContainTextAsync("5 items");
        await Expect(row).ToContainTextAsync("$46.75");
        await Expect(page.Locator(".cart-count")).ToHaveCountAsync(0);
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-orders")}");

        // Ordering recorded exactly what the cart held.
        var order = Assert.Single(await Store.OrdersOfAsync(user, ct));
        Assert.Equal(orderId, order.GetProperty("id").GetGuid());
        Assert.Equal(
            new[] { (lantern.Id, 2), (candle.Id, 3) }.Order(),
            order.GetProperty("lines").EnumerateArray().Select(l => (l.GetProperty("productId").GetInt32(), l.GetProperty("quantity").GetInt32())).Order());
    }

    [Fact]
    public async Task A_checkout_page_submitted_again_after_its_order_emptied_the_cart_shows_that_order()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var (product, user, page) = await OpenCheckoutAsync("storefront-resubmit", price: 4m, quantity: 1, ct);

        // The first submission of this very form, sent from the page and finished before the second: what a double
        // click does when the first request wins the race. It places the order and empties the cart.
        var firstStatus = await page.EvaluateAsync<int>(
            """
            async () => {
                const form = document.querySelector('form:has(button.place-order)');
                const response = await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), redirect: 'manual' });
                return response.type === 'opaqueredirect' ? 302 : response.status;
            }
            """);
        Assert.Equal(302, firstStatus);
        var placed = Assert.Single(await Store.OrdersOfAsync(user, ct));

        // The second submission finds an empty cart, and still leads to the order the first one placed.
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/orders/[0-9a-f-]{36}\\?placed=true$"));
        Assert.Equal(placed.GetProperty("id").GetGuid(), StorefrontDriver.OrderIdOf(page.Url));
        await Store.ExpectConfirmedAsync(page, user, ct);
        Assert.Single(await Store.OrdersOfAsync(user, ct));
        Assert.Equal(CheckoutProductStock - 1, (await Store.Checkout.StockAsync(product.Id, ct)).AvailableStock);
    }

    [Fact]
    public async Task A_price_raised_after_the_checkout_page_was_shown_is_shown_for_review_and_charged_only_once_placed_again()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var (product, user, page) = await OpenCheckoutAsync("storefront-price-race", price: 89m, quantity: 1, ct);

        // An admin raises the price while the shopper looks at the page that says $89.00.
        await Store.SetPriceAsync(product.Id, 899m, ct);
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();

        await Expect(page.Locator(".notice-error")).ToContainTextAsync(
            "Prices changed since this page was opened: the total is now $899.00, not $89.00. Nothing was charged.");
        await Expect(page).ToHaveURLAsync(Store.Url("/checkout"));
        await Expect(page.Locator(".checkout-total")).ToHaveTextAsync("$899.00");
        Assert.Empty(await Store.OrdersOfAsync(user, ct));
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-checkout-price-changed")}");

        // Placed again from the page that shows the new price: ordered at it, with the same checkout attempt.
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/orders/[0-9a-f-]{36}\\?placed=true$"));
        var order = Assert.Single(await Store.OrdersOfAsync(user, ct));
        Assert.Equal(StorefrontDriver.OrderIdOf(page.Url), order.GetProperty("id").GetGuid());
        Assert.Equal(899m, order.GetProperty("total").GetDecimal());
    }

    [Fact]
    public async Task A_double_clicked_Place_order_sends_the_checkout_twice_and_creates_one_order()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var (product, user, page) = await OpenCheckoutAsync("storefront-double", price: 9m, quantity: 1, ct);

        var checkoutPosts = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && new Uri(request.Url).AbsolutePath == "/checkout")
            {
                Interlocked.Increment(ref checkoutPosts);
            }
        };
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).DblClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/orders/[0-9a-f-]{36}\\?placed=true$"));
        var orderId = StorefrontDriver.OrderIdOf(page.Url);
        await Store.ExpectConfirmedAsync(page, user, ct);
        Assert.True(checkoutPosts >= 2, $"The double click sent {checkoutPosts} checkout request(s).");
        Output.WriteLine($"screenshot: {await StorefrontDriver.ScreenshotAsync(page, "storefront-double-click-order")}");

        await page.GetByRole(AriaRole.Link, new() { Name = "Orders", Exact = true }).ClickAsync();
        await Expect(page.Locator(".order-row")).ToHaveCountAsync(1);
        await Expect(page.Locator($".order-row[data-order-id='{orderId}']")).ToBeVisibleAsync();
        var order = Assert.Single(await Store.OrdersOfAsync(user, ct));
        Assert.Equal(orderId, order.GetProperty("id").GetGuid());
        Assert.Equal(1, order.GetProperty("itemCount").GetInt32());
        Assert.Equal(CheckoutProductStock - 1, (await Store.Checkout.StockAsync(product.Id, ct)).AvailableStock);
    }
}
