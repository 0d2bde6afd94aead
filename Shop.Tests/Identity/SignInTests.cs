using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>Issue 5, item 1: registration and sign-in with authorization code + PKCE, tokens, an API call, a refresh.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class SignInTests
{
    private readonly ShopAppFixture _shop;
    private readonly ShopIdentityClient _identity;

    public SignInTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task A_new_user_registers_during_sign_in_gets_tokens_with_PKCE_calls_an_API_through_the_gateway_and_refreshes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var email = ShopIdentityClient.NewEmail("signup");
        var password = ShopIdentityClient.NewPassword();
        using var browser = new BrowserSession();
        var authorization = AuthorizationRequest.Create(ShopIdentityClient.AllScopes);

        // The storefront sends the browser to the authorization endpoint; the sign-in page offers registration.
        var (_, loginUrl) = await _identity.OpenSignInPageAsync(browser, authorization, ct);
        var returnUrl = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(loginUrl.Query)["ReturnUrl"].ToString();
        Assert.StartsWith("/connect/authorize?", returnUrl, StringComparison.Ordinal);
        var registerUrl = new Uri(_identity.Gateway, "/account/register?returnUrl=" + Uri.EscapeDataString(returnUrl));
        using var registerPage = await browser.GetAsync(registerUrl, ct);
        var form = HtmlForm.Parse(await registerPage.Content.ReadAsStringAsync(ct), "Input.Password");
        var posted = await browser.PostAsync(registerUrl, form.With(("Input.Name", "Ada Lovelace"), ("Input.Email", email), ("Input.Password", password)), ct);

        // Registering signs the user in and resumes the authorization request, which answers with the code.
        var (afterRegistration, _) = await browser.FollowAsync(posted, registerUrl, ct);
        using (afterRegistration)
        {
            Assert.Equal(HttpStatusCode.OK, afterRegistration.StatusCode);
            var code = _identity.ReadCode(await afterRegistration.Content.ReadAsStringAsync(ct), authorization);
            var tokens = await _identity.RedeemAsync(authorization, code, ct);

            var claims = Jwt.Payload(tokens.AccessToken);
            Assert.Equal("at+jwt", Jwt.Header(tokens.AccessToken).GetProperty("typ").GetString());
            Assert.Equal(_identity.Gateway.AbsoluteUri, claims.GetProperty("iss").GetString());
            Assert.Equal("Ada Lovelace", claims.GetProperty("name").GetString());
            Assert.Equal(email, claims.GetProperty("email").GetString());
            Assert.Equal("customer", claims.GetProperty("role").GetString());
            Assert.Equal(["identity", "ordering", "payment", "products"], Jwt.Audiences(tokens.AccessToken).Order());
            Assert.NotNull(tokens.RefreshToken);
            Assert.Equal(email, Jwt.Payload(tokens.IdToken!).GetProperty("email").GetString());

            // An authenticated API through the gateway: the profile is the token's subject's.
            using var gateway = _identity.CreateGatewayClient(tokens.AccessToken);
            var profile = await gateway.GetFromJsonAsync<JsonElement>("/api/identity/users/me", ct);
            Assert.Equal(claims.GetProperty("sub").GetString(), profile.GetProperty("id").GetString());
            Assert.Equal(email, profile.GetProperty("email").GetString());

            using var update = await gateway.PutAsJsonAsync("/api/identity/users/me", new
            {
                name = "Ada King",
                shippingAddress = new { street = "12 St James's Square", city = "London", postalCode = "SW1Y 4JH", country = "United Kingdom" },
            }, ct);
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);

            // The refresh token gives a new access token, which carries the changed name and works.
            var refreshed = await _identity.RefreshAsync(tokens.RefreshToken!, ct);
            Assert.NotEqual(tokens.AccessToken, refreshed.AccessToken);
            Assert.Equal("Ada King", Jwt.Payload(refreshed.AccessToken).GetProperty("name").GetString());
            using var refreshedGateway = _identity.CreateGatewayClient(refreshed.AccessToken);
            var reread = await refreshedGateway.GetFromJsonAsync<JsonElement>("/api/identity/users/me", ct);
            Assert.Equal("London", reread.GetProperty("shippingAddress").GetProperty("city").GetString());
        }
    }

    [Fact]
    public async Task An_authorization_code_is_refused_without_the_right_PKCE_verifier_and_cannot_be_used_twice()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("pkce", ct);
        using var browser = new BrowserSession();
        var authorization = AuthorizationRequest.Create(ShopIdentityClient.AllScopes);
        var (html, _) = await _identity.SubmitLoginAsync(browser, authorization, user.Email, user.Password, ct);
        var code = _identity.ReadCode(html, authorization);

        using var wrongVerifier = await _identity.PostTokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = _identity.RedirectUri.AbsoluteUri,
            ["code_verifier"] = AuthorizationRequest.Create("openid").CodeVerifier,
        }, ct);
        Assert.Equal(HttpStatusCode.BadRequest, wrongVerifier.StatusCode);
        Assert.Equal("invalid_grant", (await wrongVerifier.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error").GetString());

        // Still signed in at the identity service: a new request gets a code at once; it is good exactly once.
        var again = AuthorizationRequest.Create(ShopIdentityClient.AllScopes);
        var secondCode = await _identity.AuthorizeSignedInAsync(browser, again, ct);
        await _identity.RedeemAsync(again, secondCode, ct);
        using var replay = await _identity.PostTokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = secondCode,
            ["redirect_uri"] = _identity.RedirectUri.AbsoluteUri,
            ["code_verifier"] = again.CodeVerifier,
        }, ct);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal("invalid_grant", (await replay.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_authorization_request_without_PKCE_or_with_an_unregistered_redirect_uri_gets_no_code()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        using var browser = new BrowserSession();
        var valid = AuthorizationRequest.Create(ShopIdentityClient.AllScopes).Url(_identity.Gateway, _identity.RedirectUri).AbsoluteUri;

        var withoutPkce = new Uri(valid.Split("&code_challenge=")[0]);
        using var noPkce = await browser.GetAsync(withoutPkce, ct);
        Assert.Equal(HttpStatusCode.BadRequest, noPkce.StatusCode);
        Assert.Contains("code_challenge", await noPkce.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        var elsewhere = new Uri(valid.Replace(Uri.EscapeDataString(_identity.RedirectUri.AbsoluteUri), Uri.EscapeDataString("http://evil.example/signin-oidc"), StringComparison.Ordinal));
        using var badRedirect = await browser.GetAsync(elsewhere, ct);
        Assert.Equal(HttpStatusCode.BadRequest, badRedirect.StatusCode);
        Assert.Null(badRedirect.Headers.Location);
    }

    /// <summary>
    /// A request to the end-session endpoint without the id token the client got for this user (a link or an image
    /// on another site, or one carrying someone else's id token) does not sign the user out: they are asked on the
    /// sign-out page, and only their own click, a form post, ends the session.
    /// </summary>
    [Fact]
    public async Task The_end_session_endpoint_without_the_users_id_token_asks_them_instead_of_signing_them_out()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("logout-link", ct);
        var someoneElse = await _identity.SignInAsync(await _identity.RegisterAsync("logout-hint", ct), ct, "openid profile");
        Assert.NotNull(someoneElse.IdToken);
        using var browser = new BrowserSession();
        var authorization = AuthorizationRequest.Create(ShopIdentityClient.AllScopes);
        var (formPost, _) = await _identity.SubmitLoginAsync(browser, authorization, user.Email, user.Password, ct);
        _identity.ReadCode(formPost, authorization);

        foreach (var query in new[] { string.Empty, $"?id_token_hint={someoneElse.IdToken}" })
        {
            var logoutUrl = new Uri(_identity.Gateway, "/connect/logout" + query);
            var (page, url) = await browser.FollowAsync(await browser.GetAsync(logoutUrl, ct), logoutUrl, ct);
            string html;
            using (page)
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                html = await page.Content.ReadAsStringAsync(ct);
            }

            Assert.Equal("/account/logout", url.AbsolutePath);
            Assert.Contains($"You are signed in as <strong>{WebUtility.HtmlEncode(user.Email)}</strong>", html, StringComparison.Ordinal);

            // Still signed in: a new authorization request is answered with a code at once.
            var again = AuthorizationRequest.Create(ShopIdentityClient.AllScopes);
            Assert.NotEmpty(await _identity.AuthorizeSignedInAsync(browser, again, ct));
        }

        // The user's own click on the page signs them out.
        var confirmUrl = new Uri(_identity.Gateway, "/account/logout");
        using (var confirmPage = await browser.GetAsync(confirmUrl, ct))
        {
            var form = HtmlForm.Parse(await confirmPage.Content.ReadAsStringAsync(ct), "Sign out");
            var (signedOut, _) = await browser.FollowAsync(await browser.PostAsync(confirmUrl, form.With(), ct), confirmUrl, ct);
            using (signedOut)
            {
                Assert.Contains("You are signed out", await signedOut.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            }
        }

        await _identity.OpenSignInPageAsync(browser, AuthorizationRequest.Create(ShopIdentityClient.AllScopes), ct);
    }
}
