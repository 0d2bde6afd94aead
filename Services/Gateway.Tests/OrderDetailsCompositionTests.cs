using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Apis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests;

/// <summary>
/// The composed order (<c>/api/bff/orders/{id}</c>) in front of stand-in services: a part whose service refuses the
/// caller's token is named in <c>notPermitted</c>, apart from a part whose service failed, which stays in
/// <c>unavailable</c>, as does a part whose service does not answer within its budget; the order itself is returned
/// either way.
/// </summary>
public sealed class OrderDetailsCompositionTests : GatewayBeforeStandInsTests
{
    private static readonly string AllApis = TestTokens.Mint("user-1", ["products", "ordering", "payment", "identity"]);

    [Fact]
    public async Task An_order_whose_services_all_answer_has_every_part_and_names_none_missing()
    {
        var details = await GetOrderDetailsAsync(AllApis);

        Assert.Equal("Succeeded", details.GetProperty("payments")[0].GetProperty("status").GetString());
        Assert.Equal("Mug", details.GetProperty("products")[0].GetProperty("name").GetString());
        Assert.Empty(details.GetProperty("unavailable").EnumerateArray());
        Assert.Empty(details.GetProperty("notPermitted").EnumerateArray());
    }

    [Theory]
    [InlineData(StatusCodes.Status403Forbidden)]
    [InlineData(StatusCodes.Status401Unauthorized)]
    public async Task Payments_refused_to_the_caller_are_not_permitted_rather_than_unavailable(int paymentStatus)
    {
        Services.PaymentStatus = paymentStatus;

        var details = await GetOrderDetailsAsync(AllApis);

        Assert.Equal(7, details.GetProperty("order").GetProperty("lines")[0].GetProperty("productId").GetInt32());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("payments").ValueKind);
        Assert.Equal(["payments"], Names(details, "notPermitted"));
        Assert.Empty(Names(details, "unavailable"));
        Assert.Equal(JsonValueKind.Array, details.GetProperty("products").ValueKind);
    }

    [Fact]
    public async Task Payments_whose_service_fails_are_still_unavailable()
    {
        Services.PaymentStatus = StatusCodes.Status500InternalServerError;

        var details = await GetOrderDetailsAsync(AllApis);

        Assert.Equal(JsonValueKind.Null, details.GetProperty("payments").ValueKind);
        Assert.Equal(["payments"], Names(details, "unavailable"));
        Assert.Empty(Names(details, "notPermitted"));
    }

    [Fact]
    public async Task A_hung_payment_service_costs_the_order_its_payments_after_the_part_budget_not_the_page()
    {
        // Longer than any caller waits: the storefront gives the whole composition a little more than its budget.
        Services.PaymentDelay = TimeSpan.FromSeconds(20);

        var elapsed = Stopwatch.StartNew();
        var details = await GetOrderDetailsAsync(AllApis);
        elapsed.Stop();

        Assert.Equal(7, details.GetProperty("order").GetProperty("lines")[0].GetProperty("productId").GetInt32());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("payments").ValueKind);
        Assert.Equal(["payments"], Names(details, "unavailable"));
        Assert.Equal("Mug", details.GetProperty("products")[0].GetProperty("name").GetString());
        Assert.InRange(elapsed.Elapsed, OrderDetailsApi.PartBudget, OrderDetailsApi.PartBudget + TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_hung_ordering_service_is_a_503_after_the_orders_budget()
    {
        Services.OrderingDelay = TimeSpan.FromSeconds(30);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/bff/orders/{Guid.NewGuid()}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AllApis);

        var elapsed = Stopwatch.StartNew();
        using var response = await Client.SendAsync(request);
        elapsed.Stop();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.InRange(elapsed.Elapsed, OrderDetailsApi.OrderBudget, OrderDetailsApi.OrderBudget + TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(Services.Requests, r => r.Contains("/api/payment/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_not_issued_for_payment_gets_the_order_with_payments_not_permitted_and_is_never_sent_to_payment()
    {
        var details = await GetOrderDetailsAsync(TestTokens.Mint("user-1", ["ordering"]));

        Assert.Equal(JsonValueKind.Null, details.GetProperty("payments").ValueKind);
        Assert.Equal(["payments"], Names(details, "notPermitted"));
        Assert.Empty(Names(details, "unavailable"));
        Assert.Contains(Services.Requests, r => r.StartsWith("GET /api/ordering/orders/", StringComparison.Ordinal));
        Assert.DoesNotContain(Services.Requests, r => r.Contains("/api/payment/", StringComparison.Ordinal));
    }

    private async Task<JsonElement> GetOrderDetailsAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/bff/orders/{Guid.NewGuid()}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] Names(JsonElement details, string list) =>
        [.. details.GetProperty(list).EnumerateArray().Select(e => e.GetString()!)];
}
