using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shop.Web.Services;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// The order pages as a signed-in shopper's browser gets them, in front of a stand-in gateway: what they say, and with
/// which status, for an order the gateway composed slowly, an order that is not the shopper's, and an order list page
/// past the last.
/// </summary>
public sealed class OrderPagesTests : StorefrontBeforeStandInGateway
{
    private static readonly Guid SlowOrder = Guid.Parse("019aa5b0-0000-7000-8000-00000000a001");
    private static readonly Guid ConfirmedOrder = Guid.Parse("019aa5b0-0000-7000-8000-00000000a002");
    private static readonly Guid OrderOfADeletedProduct = Guid.Parse("019aa5b0-0000-7000-8000-00000000a003");

    /// <summary>How long the stand-in gateway takes to compose <see cref="SlowOrder"/>: within its budget, past the standard 10 s try.</summary>
    private static readonly TimeSpan SlowComposition = TimeSpan.FromSeconds(11);

    protected override void MapGateway(WebApplication gateway)
    {
        gateway.MapGet("/api/bff/orders/{id:guid}", async (Guid id, CancellationToken aborted) =>
        {
            if (id == ConfirmedOrder)
            {
                return Results.Json(ComposedOrder(id, payments: Array.Empty<object>(), unavailable: [], status: "Confirmed"));
            }

            if (id == OrderOfADeletedProduct)
            {
                return Results.Json(ComposedOrder(id, payments: Array.Empty<object>(), unavailable: [], status: "Confirmed", products: []));
            }

            if (id != SlowOrder)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Order not found.");
            }

            await Task.Delay(SlowComposition, aborted);
            return Results.Json(ComposedOrder(id, payments: null, unavailable: ["payments"]));
        });
        // Three orders, all on the first page.
        gateway.MapGet("/api/ordering/orders", (int pageIndex, int pageSize) => Results.Json(new
        {
            pageIndex,
            pageSize,
            count = 3,
            data = pageIndex == 0 ? new[] { OrderSummary(SlowOrder), OrderSummary(ConfirmedOrder), OrderSummary(Guid.CreateVersion7()) } : [],
        }));
    }

    [Fact]
    public async Task An_order_that_is_not_the_shoppers_is_a_404_page_that_says_so()
    {
        using var client = CreateClient();

        using var response = await client.GetAsync($"/orders/{Guid.CreateVersion7()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(">Order not found</h1>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_confirmed_order_promises_no_delivery_since_orders_record_no_address()
    {
        using var client = CreateClient();

        var page = await client.GetStringAsync($"/orders/{ConfirmedOrder}");

        Assert.Contains("Your order is confirmed.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("on its way", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_line_whose_product_the_catalog_no_longer_lists_has_no_link_and_says_so()
    {
        using var client = CreateClient();

        var deleted = await client.GetStringAsync($"/orders/{OrderOfADeletedProduct}");
        var listed = await client.GetStringAsync($"/orders/{ConfirmedOrder}");

        Assert.DoesNotContain("href=\"/products/1\"", deleted, StringComparison.Ordinal);
        Assert.Contains("No longer sold", deleted, StringComparison.Ordinal);
        Assert.Contains("href=\"/products/1\"", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("No longer sold", listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_list_page_past_the_last_says_there_is_no_such_page()
    {
        using var client = CreateClient();

        var page = await client.GetStringAsync("/orders?page=5");

        Assert.Contains("There is no page 5 of your orders: you have 3 orders on 1 page.", page, StringComparison.Ordinal);
        Assert.Contains(">Back to your latest orders</a>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_list_page_past_ints_range_says_there_is_no_such_page_rather_than_showing_the_first()
    {
        using var client = CreateClient();

        var page = await client.GetStringAsync("/orders?page=99999999999");

        Assert.Contains("There is no page 99999999999 of your orders: you have 3 orders on 1 page.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_order_the_gateway_composes_within_its_budget_is_shown_after_one_request_even_past_ten_seconds()
    {
        Assert.True(SlowComposition < OrderDetailsService.GatewayBudget);
        using var client = CreateClient();

        var elapsed = Stopwatch.StartNew();
        using var response = await client.GetAsync($"/orders/{SlowOrder}");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Lamp", page, StringComparison.Ordinal);
        Assert.Contains("Payment details are unavailable right now.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Ordering is unavailable", page, StringComparison.Ordinal);
        Assert.Single(GatewayRequests, r => r.StartsWith("GET /api/bff/orders/", StringComparison.Ordinal));
        Assert.True(elapsed.Elapsed < OrderDetailsService.AttemptTimeout, $"The page took {elapsed.Elapsed}.");
    }

    private static object OrderSummary(Guid id) => new
    {
        id,
        status = "Paid",
        total = 10.0m,
        currency = "USD",
        createdAt = DateTimeOffset.Parse("2026-11-24T12:00:00+00:00", System.Globalization.CultureInfo.InvariantCulture),
        cancellationReason = (string?)null,
        itemCount = 1,
        lines = new[] { new { productId = 1, productName = "Lamp", pictureUrl = (string?)null, unitPrice = 10.0m, quantity = 1, lineTotal = 10.0m } },
    };

    /// <summary>The lamp as the catalog lists it now, for the composed order's products part.</summary>
    private static readonly object Lamp = new
    {
        id = 1, name = "Lamp", description = "", price = 10.0m, brand = "Lumen Works", category = "Lighting", availableStock = 3,
        brandId = 6, categoryId = 4, pictureUrl = "/api/products/items/1/pic",
    };

    internal static object ComposedOrder(Guid id, object? payments, string[] unavailable, string status = "Paid", object[]? products = null) => new
    {
        order = new
        {
            id,
            status,
            total = 10.0m,
            currency = "USD",
            createdAt = DateTimeOffset.Parse("2026-11-24T12:00:00+00:00", System.Globalization.CultureInfo.InvariantCulture),
            updatedAt = DateTimeOffset.Parse("2026-11-24T12:01:00+00:00", System.Globalization.CultureInfo.InvariantCulture),
            cancellationReason = (string?)null,
            lines = new[] { new { productId = 1, productName = "Lamp", pictureUrl = (string?)null, unitPrice = 10.0m, quantity = 1, lineTotal = 10.0m } },
            history = new[] { new { id = 11L, status = "Submitted", reason = (string?)null, at = DateTimeOffset.Parse("2026-11-24T12:00:00+00:00", System.Globalization.CultureInfo.InvariantCulture) } },
        },
        payments,
        products = unavailable.Contains("products") ? null : products ?? [Lamp],
        unavailable,
        notPermitted = Array.Empty<string>(),
    };
}
