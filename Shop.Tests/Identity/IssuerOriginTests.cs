using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>
/// Identity has one public name, the issuer (the gateway's URL): however the gateway is reached, by another name for
/// the same machine or with a Host header a caller chose, identity's URLs point at the issuer, never at its internal
/// address or at that other name.
/// </summary>
[Collection(ShopAppCollection.Name)]
public sealed class IssuerOriginTests
{
    private readonly ShopIdentityClient _identity;

    public IssuerOriginTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    /// <summary>The gateway by another name for this machine; and with a Host header of a caller's choosing.</summary>
    public static TheoryData<string?> OtherHosts => new() { null, "evil.example" };

    [Theory]
    [MemberData(nameof(OtherHosts))]
    public async Task Discovery_through_another_host_name_names_only_the_issuers_urls(string? host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var browser = new BrowserSession();
        var issuer = _identity.Gateway.AbsoluteUri;

        using var response = await GetAsync(browser, "/.well-known/openid-configuration", host, timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var discovery = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token)).RootElement;
        Assert.Equal(issuer, discovery.GetProperty("issuer").GetString());
        var urls = discovery.EnumerateObject()
            .Where(p => p.Name.EndsWith("_endpoint", StringComparison.Ordinal) || p.Name.EndsWith("_uri", StringComparison.Ordinal))
            .ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Contains("authorization_endpoint", urls.Keys);
        Assert.Contains("token_endpoint", urls.Keys);
        Assert.Contains("end_session_endpoint", urls.Keys);
        Assert.Contains("jwks_uri", urls.Keys);
        Assert.All(urls, url => Assert.StartsWith(issuer, url.Value, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(OtherHosts))]
    public async Task An_authorization_request_through_another_host_name_is_sent_to_the_issuers_sign_in_page(string? host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var browser = new BrowserSession();
        var authorize = AuthorizationRequest.Create(ShopIdentityClient.AllScopes).Url(_identity.Gateway, _identity.RedirectUri);

        using var response = await GetAsync(browser, authorize.PathAndQuery, host, timeout.Token);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(new Uri(_identity.Gateway, "/account/login?").AbsoluteUri, response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    /// <summary>A GET to the gateway by another name for this machine, with <paramref name="host"/> as its Host header when given.</summary>
    private async Task<HttpResponseMessage> GetAsync(BrowserSession browser, string pathAndQuery, string? host, CancellationToken cancellationToken)
    {
        var otherName = _identity.Gateway.Host == "localhost" ? "127.0.0.1" : "localhost";
        var gateway = new UriBuilder(_identity.Gateway) { Host = otherName }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, pathAndQuery));
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        return await browser.Http.SendAsync(request, cancellationToken);
    }
}
