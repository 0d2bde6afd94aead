using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>
/// The gateway's shipped routes with real token validation, in front of stand-in services: a route that needs a user
/// also needs a token issued for the service behind it (its cluster's audience), and refuses any other with a 403
/// problem without forwarding it; anonymous routes take any token or none; admin routes still need the role.
/// </summary>
public sealed class RouteAudienceTests : GatewayBeforeStandInsTests
{
    [Theory]
    [InlineData("GET", "/api/ordering/orders", "payment")]
    [InlineData("GET", "/api/payment/payments?orderId=8f0e7c3a-1b2d-4e5f-9a6b-7c8d9e0f1a2b", "ordering")]
    [InlineData("GET", "/api/identity/users/me", "products")]
    [InlineData("PUT", "/api/products/items/7/stock", "identity")]
    public async Task A_token_for_another_service_gets_a_403_problem_and_is_never_forwarded(string method, string path, string audience)
    {
        using var response = await SendAsync(method, path, TestTokens.Mint("user-1", [audience], ShopRoles.Admin));

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Empty(Services.Requests);
    }

    [Theory]
    [InlineData("GET", "/api/ordering/orders", "ordering")]
    [InlineData("DELETE", "/api/payment/payments/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "payment")]
    [InlineData("GET", "/api/identity/users/me", "identity")]
    public async Task A_token_for_the_routes_service_is_forwarded_with_it(string method, string path, string audience)
    {
        using var response = await SendAsync(method, path, TestTokens.Mint("user-1", [audience]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"reached {path}", await response.Content.ReadAsStringAsync());
        Assert.Equal([$"{method} {path} with token"], Services.Requests);
    }

    [Fact]
    public async Task A_token_the_storefront_gets_with_every_api_scope_passes_every_signed_in_route()
    {
        var token = TestTokens.Mint("user-1", ["products", "ordering", "payment", "identity"]);

        foreach (var path in new[] { "/api/ordering/orders", "/api/payment/payments", "/api/identity/users/me" })
        {
            using var response = await SendAsync("GET", path, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_token_for_none_of_the_gateways_services_is_still_a_401_problem()
    {
        using var response = await SendAsync("GET", "/api/ordering/orders", TestTokens.Mint("user-1", ["elsewhere"]));

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Empty(Services.Requests);
    }

    [Theory]
    [InlineData("POST", "/api/ordering/quotes")]
    [InlineData("GET", "/api/products/items/7")]
    [InlineData("GET", "/connect/authorize")]
    public async Task An_anonymous_route_is_forwarded_with_a_token_for_another_service_or_none(string method, string path)
    {
        using (var withToken = await SendAsync(method, path, TestTokens.Mint("user-1", ["payment"])))
        {
            Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        }

        using (var withoutToken = await SendAsync(method, path, token: null))
        {
            Assert.Equal(HttpStatusCode.OK, withoutToken.StatusCode);
        }

        Assert.Equal(2, Services.Requests.Count);
    }

    [Fact]
    public async Task An_admin_route_needs_the_admin_role_as_well_as_the_services_audience()
    {
        const string path = "/api/products/items/7/stock";

        using (var customer = await SendAsync("PUT", path, TestTokens.Mint("user-1", ["products"], ShopRoles.Customer)))
        {
            await AssertProblemAsync(customer, HttpStatusCode.Forbidden);
        }

        using (var adminForOrdering = await SendAsync("PUT", path, TestTokens.Mint("admin-1", ["ordering"], ShopRoles.Admin)))
        {
            await AssertProblemAsync(adminForOrdering, HttpStatusCode.Forbidden);
        }

        Assert.Empty(Services.Requests);
        using var admin = await SendAsync("PUT", path, TestTokens.Mint("admin-1", ["products"], ShopRoles.Admin));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal([$"PUT {path} with token"], Services.Requests);
    }

    [Fact]
    public async Task The_composed_order_needs_a_token_for_ordering()
    {
        var path = $"/api/bff/orders/{Guid.NewGuid()}";

        using (var paymentOnly = await SendAsync("GET", path, TestTokens.Mint("user-1", ["payment"])))
        {
            await AssertProblemAsync(paymentOnly, HttpStatusCode.Forbidden);
            Assert.Empty(Services.Requests);
        }

        using var forOrdering = await SendAsync("GET", path, TestTokens.Mint("user-1", ["ordering", "payment"]));
        Assert.Equal(HttpStatusCode.OK, forOrdering.StatusCode);
    }

    [Fact]
    public async Task A_signed_in_route_to_a_cluster_without_an_audience_stops_the_gateway_at_start_up()
    {
        var failure = Assert.ThrowsAny<Exception>(() => KestrelApps.CreateAuthorizingGateway(
            Services.App, new Dictionary<string, string?> { ["ReverseProxy:Clusters:payment:Metadata:Audience"] = "" }));

        var messages = string.Join(" | ", Chain(failure).Select(e => e.Message));
        Assert.Contains("The route 'payment' needs a signed-in user", messages, StringComparison.Ordinal);
        Assert.Contains("'ReverseProxy:Clusters:payment:Metadata:Audience'", messages, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Client.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain))
                {
                    yield return inner;
                }
            }
        }
    }
}
