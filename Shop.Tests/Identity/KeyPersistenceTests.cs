using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>Issue 5, item 5: the server's keys live in identitydb, so a restart invalidates nothing.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class KeyPersistenceTests
{
    private readonly ShopAppFixture _shop;
    private readonly ShopIdentityClient _identity;

    public KeyPersistenceTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task Tokens_issued_before_an_identity_restart_still_validate_and_refresh_after_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("restart", ct);
        var tokens = await _identity.SignInAsync(user, ct);
        using var gateway = _identity.CreateGatewayClient();
        var keysBefore = await gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks", ct);
        var before = await _shop.App.ResourceNotifications.WaitForResourceHealthyAsync("identity", ct);

        await _shop.App.ResourceCommands.RestartAsync("identity", ct);
        var after = await _shop.App.ResourceNotifications.WaitForResourceHealthyAsync("identity", ct);
        Assert.NotEqual(before.Snapshot.ProcessId, after.Snapshot.ProcessId);

        var keysAfter = await gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks", ct);
        Assert.Equal(KeyIds(keysBefore), KeyIds(keysAfter));

        // The restarted identity service checks the old access token with its reloaded keys, straight and via the gateway.
        foreach (var resource in new[] { "identity", "gateway" })
        {
            using var http = _identity.CreateClient(resource, tokens.AccessToken);
            using var response = await http.GetAsync("/api/identity/users/me", ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The refresh token was encrypted with the stored encryption key: it still decrypts, and its tokens work.
        var refreshed = await _identity.RefreshAsync(tokens.RefreshToken!, ct);
        Assert.Equal(Jwt.Header(tokens.AccessToken).GetProperty("kid").GetString(), Jwt.Header(refreshed.AccessToken).GetProperty("kid").GetString());
        using var refreshedClient = _identity.CreateGatewayClient(refreshed.AccessToken);
        using var refreshedResponse = await refreshedClient.GetAsync("/api/identity/users/me", ct);
        Assert.Equal(HttpStatusCode.OK, refreshedResponse.StatusCode);
    }

    private static List<string> KeyIds(JsonElement jwks) =>
        [.. jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).Order()];
}
