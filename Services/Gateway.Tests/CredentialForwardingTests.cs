using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests;

/// <summary>
/// The gateway's routes as configured, in front of a stand-in for products that says whether a request carried a
/// token: a public catalog read reaches products without the caller's token (it needs none, so it is not handed one),
/// while an admin's reads and writes carry it, since products checks it again. The routes' policies allow everyone
/// here; that the gateway enforces them is shown through the AppHost (<c>CatalogAdminTests</c>).
/// </summary>
public sealed class CredentialForwardingTests : IAsyncLifetime
{
    private WebApplication _products = null!;
    private WebApplication _gateway = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _products = KestrelApps.CreateSlim(app => app.Map("/{**path}", (HttpRequest request) =>
            request.Headers.Authorization.Count == 0 ? "no token" : $"token {request.Headers.Authorization}"));
        await _products.StartAsync();

        _gateway = KestrelApps.CreateGatewayTo("products", _products);
        await _gateway.StartAsync();
        _client = KestrelApps.ClientOf(_gateway);
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "the-user's-token");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _products.DisposeAsync();
    }

    [Theory]
    [InlineData("/api/products/items?pageIndex=0&pageSize=10")]
    [InlineData("/api/products/items/7")]
    [InlineData("/api/products/items/7/pic")]
    [InlineData("/api/products/brands")]
    public async Task A_catalog_read_reaches_products_without_the_callers_token(string path)
    {
        Assert.Equal("no token", await _client.GetStringAsync(path));
    }

    [Theory]
    [InlineData("GET", "/api/products/items/7/stock")]
    [InlineData("GET", "/api/products/reservations/3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    [InlineData("GET", "/api/products/dead-letters")]
    [InlineData("GET", "/api/products/dead-letters/3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    [InlineData("PUT", "/api/products/items/7/stock")]
    [InlineData("DELETE", "/api/products/items/7")]
    public async Task An_admins_request_reaches_products_with_the_token_products_checks_again(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await _client.SendAsync(request);

        Assert.Equal("token Bearer the-user's-token", await response.Content.ReadAsStringAsync());
    }
}
