using System.Net;
using Npgsql;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>The storefront renews a session's access token with its refresh token before it expires.</summary>
[Collection(SecondShopCollection.Name)]
public sealed class TokenRefreshTests
{
    private readonly SecondShopFixture _shop;
    private readonly ShopIdentityClient _identity;

    public TokenRefreshTests(SecondShopFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task The_storefront_refreshes_an_expiring_access_token_and_keeps_the_session()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("refresh", ct);
        Assert.InRange((await _identity.SignInAsync(user, ct)).ExpiresIn, 1, (int)SecondShopFixture.AccessTokenLifetime.TotalSeconds);
        var redeemedBefore = await CountRedeemedRefreshTokensAsync(user.Id, ct);
        using var browser = new BrowserSession();
        var profileUrl = new Uri(_identity.Web, "/profile");

        var (signedIn, _) = await _identity.SignInOnStorefrontAsync(browser, user, profileUrl, ct);
        signedIn.Dispose();
        var redeemedAfterSignIn = await CountRedeemedRefreshTokensAsync(user.Id, ct);

        // The session's token has less than the refresh margin left: the next page renews it and rewrites the cookie.
        using var again = await browser.GetAsync(profileUrl, ct);
        var html = await again.Content.ReadAsStringAsync(ct);
        Assert.True(again.StatusCode == HttpStatusCode.OK, $"The profile answered {(int)again.StatusCode}: {html}");
        Assert.Contains($"Signed in as <strong>{WebUtility.HtmlEncode(user.Email)}</strong>", html, StringComparison.Ordinal);
        Assert.Contains(again.Headers.GetValues("Set-Cookie"), c => c.StartsWith("shop.web", StringComparison.Ordinal));
        Assert.True(redeemedAfterSignIn > redeemedBefore, "Signing in on the storefront renewed no token.");
        Assert.True(await CountRedeemedRefreshTokensAsync(user.Id, ct) > redeemedAfterSignIn, "The second page renewed no token.");
    }

    /// <summary>OpenIddict marks a refresh token redeemed when it is exchanged (rolling refresh tokens).</summary>
    private async Task<long> CountRedeemedRefreshTokensAsync(string subject, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(await _shop.App.GetConnectionStringAsync("identitydb", cancellationToken));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """SELECT count(*) FROM "OpenIddictTokens" WHERE "Subject" = $1 AND "Type" = 'urn:ietf:params:oauth:token-type:refresh_token' AND "Status" = 'redeemed'""", connection);
        command.Parameters.AddWithValue(subject);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
