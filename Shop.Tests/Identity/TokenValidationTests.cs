using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>
/// Issue 5, item 2: what a token is worth, through the gateway and straight to the services (which check tokens
/// themselves, so bypassing the gateway gains nothing).
/// </summary>
[Collection(ShopAppCollection.Name)]
public sealed class TokenValidationTests
{
    private readonly ShopAppFixture _shop;
    private readonly ShopIdentityClient _identity;

    public TokenValidationTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    /// <summary>Authenticated endpoints: through the gateway, straight to identity, straight to payment (an admin endpoint).</summary>
    private static readonly (string Resource, string Path)[] ProtectedEndpoints =
    [
        ("gateway", "/api/identity/users/me"),
        ("gateway", "/api/payment/payments?orderId=8f0e7c3a-1b2d-4e5f-9a6b-7c8d9e0f1a2b"),
        ("identity", "/api/identity/users/me"),
        ("payment", "/api/payment/payments?orderId=8f0e7c3a-1b2d-4e5f-9a6b-7c8d9e0f1a2b"),
        ("ordering", "/api/ordering/orders"),
        ("products", "/api/products/items/1/stock"),
    ];

    [Fact]
    public async Task Requests_without_a_token_get_401_problems_from_the_gateway_and_the_services()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var (resource, path) in ProtectedEndpoints.Append(("gateway", "/api/ordering/orders")))
        {
            using var http = _identity.CreateClient(resource);
            using var response = await http.GetAsync(path, timeout.Token);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, timeout.Token);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        }
    }

    [Fact]
    public async Task A_tampered_token_gets_401_everywhere_while_the_untouched_one_is_accepted()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var tokens = await _identity.SignInAsync(ShopIdentityClient.DemoAdmin, timeout.Token);

        await AssertEverywhereAsync(tokens.AccessToken, HttpStatusCode.OK, timeout.Token);
        await AssertEverywhereAsync(Jwt.Tamper(tokens.AccessToken), HttpStatusCode.Unauthorized, timeout.Token);
    }

    /// <summary>
    /// The expired token is signed with the server's own key and differs from an accepted one only in its times,
    /// so the 401 is for the expiry alone.
    /// </summary>
    [Fact]
    public async Task An_expired_token_signed_with_the_server_key_gets_401_while_a_current_one_is_accepted()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var admin = Jwt.Payload((await _identity.SignInAsync(ShopIdentityClient.DemoAdmin, ct)).AccessToken);
        var now = DateTimeOffset.UtcNow;

        var current = await Jwt.SignWithServerKeyAsync(_shop.App, Claims(admin, issuedAt: now.AddMinutes(-1), expires: now.AddMinutes(5)), ct);
        await AssertEverywhereAsync(current, HttpStatusCode.OK, ct);

        var expired = await Jwt.SignWithServerKeyAsync(_shop.App, Claims(admin, issuedAt: now.AddMinutes(-20), expires: now.AddMinutes(-5)), ct);
        await AssertEverywhereAsync(expired, HttpStatusCode.Unauthorized, ct);
    }

    /// <summary>
    /// A real token asked for the catalog only: its audience is products, so products takes it; identity, payment and
    /// ordering refuse it with 401 when it is sent straight to them, and the gateway refuses it with 403 on their routes
    /// before it reaches them (the token is authentic, but not for that API).
    /// </summary>
    [Fact]
    public async Task A_token_for_another_audience_gets_403_from_the_gateway_and_401_from_the_service()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var catalogOnly = await _identity.SignInAsync(ShopIdentityClient.DemoAdmin, ct, scope: "openid products");
        Assert.Equal(["products"], Jwt.Audiences(catalogOnly.AccessToken));

        await AssertEverywhereAsync(catalogOnly.AccessToken, resource => resource switch
        {
            "products" => HttpStatusCode.OK,
            "gateway" => HttpStatusCode.Forbidden,
            _ => HttpStatusCode.Unauthorized,
        }, ct);
    }

    [Fact]
    public async Task A_customer_gets_403_problems_on_admin_routes_where_an_admin_gets_through()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var customer = await _identity.SignInAsync(ShopIdentityClient.DemoCustomer, ct);
        var admin = await _identity.SignInAsync(ShopIdentityClient.DemoAdmin, ct);

        using var customerGateway = _identity.CreateGatewayClient(customer.AccessToken);
        using var customerPayment = _identity.CreateClient("payment", customer.AccessToken);
        using var adminGateway = _identity.CreateGatewayClient(admin.AccessToken);

        // Catalog writes are the gateway's to refuse: a customer never reaches products with one.
        using (var write = await customerGateway.PostAsJsonAsync("/api/products/items", new { name = "Free lunch", price = 0 }, ct))
        {
            await ProblemAssert.IsProblemAsync(write, HttpStatusCode.Forbidden, ct);
        }

        var lookup = "/api/identity/users?email=" + Uri.EscapeDataString(ShopIdentityClient.DemoCustomer.Email);
        using (var forbidden = await customerGateway.GetAsync(lookup, ct))
        {
            await ProblemAssert.IsProblemAsync(forbidden, HttpStatusCode.Forbidden, ct);
        }

        // Straight to the service, bypassing the gateway: the service refuses an admin route by itself.
        using (var direct = await customerPayment.GetAsync("/api/payment/dead-letters", ct))
        {
            await ProblemAssert.IsProblemAsync(direct, HttpStatusCode.Forbidden, ct);
        }

        var found = await adminGateway.GetFromJsonAsync<JsonElement>(lookup, ct);
        Assert.Equal(ShopIdentityClient.DemoCustomer.Email, found.GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_user_asking_for_another_users_profile_gets_404_as_for_an_unknown_id()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var alice = await _identity.RegisterAsync("alice", ct);
        var bob = await _identity.RegisterAsync("bob", ct);
        var aliceTokens = await _identity.SignInAsync(alice, ct);
        using var asAlice = _identity.CreateGatewayClient(aliceTokens.AccessToken);

        using (var own = await asAlice.GetAsync($"/api/identity/users/{alice.Id}", ct))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using var others = await asAlice.GetAsync($"/api/identity/users/{bob.Id}", ct);
        using var unknown = await asAlice.GetAsync($"/api/identity/users/{Guid.NewGuid()}", ct);
        await ProblemAssert.IsProblemAsync(others, HttpStatusCode.NotFound, ct);
        await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.NotFound, ct);
        Assert.Equal(await unknown.Content.ReadFromJsonAsync<JsonElement>(ct) is var u ? u.GetProperty("title").GetString() : null,
            (await others.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("title").GetString());

        // A user id in a header is nobody's business: the profile is the token's subject's.
        asAlice.DefaultRequestHeaders.Add("X-User-Id", bob.Id);
        var me = await asAlice.GetFromJsonAsync<JsonElement>("/api/identity/users/me", ct);
        Assert.Equal(alice.Id, me.GetProperty("id").GetString());

        var adminTokens = await _identity.SignInAsync(ShopIdentityClient.DemoAdmin, ct);
        using var asAdmin = _identity.CreateGatewayClient(adminTokens.AccessToken);
        var bobAsSeenByAdmin = await asAdmin.GetFromJsonAsync<JsonElement>($"/api/identity/users/{bob.Id}", ct);
        Assert.Equal(bob.Email, bobAsSeenByAdmin.GetProperty("email").GetString());
    }

    private Task AssertEverywhereAsync(string accessToken, HttpStatusCode expected, CancellationToken cancellationToken) =>
        AssertEverywhereAsync(accessToken, _ => expected, cancellationToken);

    private async Task AssertEverywhereAsync(string accessToken, Func<string, HttpStatusCode> expectedFrom, CancellationToken cancellationToken)
    {
        foreach (var (resource, path) in ProtectedEndpoints)
        {
            var expected = expectedFrom(resource);
            using var http = _identity.CreateClient(resource, accessToken);
            using var response = await http.GetAsync(path, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            Assert.True(expected == response.StatusCode, $"{resource} {path}: expected {(int)expected}, got {(int)response.StatusCode} {body}");
            if (expected is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    /// <summary>The claims of a token the server issued, with other times.</summary>
    private static JsonObject Claims(JsonElement issued, DateTimeOffset issuedAt, DateTimeOffset expires)
    {
        var claims = JsonNode.Parse(issued.GetRawText())!.AsObject();
        claims["iat"] = issuedAt.ToUnixTimeSeconds();
        claims["nbf"] = issuedAt.ToUnixTimeSeconds();
        claims["exp"] = expires.ToUnixTimeSeconds();
        claims["jti"] = Guid.NewGuid().ToString();
        return claims;
    }
}
