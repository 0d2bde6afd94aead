using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Shop.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;

namespace Shop.Tests.Identity;

internal sealed record TokenSet(string AccessToken, string? RefreshToken, string? IdToken, int ExpiresIn);

internal sealed record TestUser(string Id, string Email, string Password, string Name);

/// <summary>
/// Plays the storefront's part in OpenID Connect against the running app, over plain HTTP: the authorization code
/// flow with PKCE through the gateway, its real redirects and forms, the identity service's pages, and the token
/// endpoint, with the storefront's client registration (client id <c>web</c>, its secret, its redirect URI).
/// </summary>
internal sealed class ShopIdentityClient(DistributedApplication app)
{
    public const string AllScopes = "openid profile email roles offline_access products ordering payment identity";

    /// <summary>The seeded Development accounts documented in Services/Identity.Api/README.md.</summary>
    public static readonly TestUser DemoCustomer = new(string.Empty, "customer@example.com", "Customer#2026", "Demo Customer");

    public static readonly TestUser DemoAdmin = new(string.Empty, "admin@example.com", "Admin#2026", "Demo Admin");

    public Uri Gateway => app.GetEndpoint("gateway");

    public Uri Web => app.GetEndpoint("web");

    public Uri RedirectUri => new(Web, "/signin-oidc");

    /// <summary>The storefront's client secret: an AppHost parameter, generated for this run.</summary>
    public string ClientSecret => Parameter("web-client-secret");

    public string Parameter(string name) =>
        app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>().Single(p => p.Name == name).Value;

    public static string NewEmail(string purpose) => $"{purpose}-{Guid.NewGuid():N}@example.com";

    public static string NewPassword() => "Pw#" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)) + "a";

    /// <summary>Registers through the API, as any client may.</summary>
    public async Task<TestUser> RegisterAsync(string purpose, CancellationToken cancellationToken)
    {
        var email = NewEmail(purpose);
        var password = NewPassword();
        var name = "Test " + purpose;
        using var gateway = CreateGatewayClient();
        using var response = await gateway.PostAsJsonAsync("/api/identity/users", new { email, password, name }, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return new TestUser(created.GetProperty("id").GetString()!, email, password, name);
    }

    public async Task<TokenSet> SignInAsync(TestUser user, CancellationToken cancellationToken, string scope = AllScopes)
    {
        using var browser = new BrowserSession();
        var authorization = AuthorizationRequest.Create(scope);
        var (html, _) = await SubmitLoginAsync(browser, authorization, user.Email, user.Password, cancellationToken);
        return await RedeemAsync(authorization, ReadCode(html, authorization), cancellationToken);
    }

    /// <summary>
    /// Opens <paramref name="page"/> of the storefront as a signed-out visitor and signs in on the identity service's
    /// page it sends the browser to; returns where the browser lands: OpenIddict's form post carried to the
    /// storefront's callback, and its redirect back to <paramref name="page"/>.
    /// </summary>
    public async Task<(HttpResponseMessage Response, Uri Url)> SignInOnStorefrontAsync(
        BrowserSession browser, TestUser user, Uri page, CancellationToken cancellationToken)
    {
        var (loginPage, loginUrl) = await browser.FollowAsync(await browser.GetAsync(page, cancellationToken), page, cancellationToken);
        string formPostPage;
        using (loginPage)
        {
            Assert.Equal(Gateway.Authority, loginUrl.Authority);
            Assert.Equal("/account/login", loginUrl.AbsolutePath);
            var form = HtmlForm.Parse(await loginPage.Content.ReadAsStringAsync(cancellationToken), "Input.Password");
            var posted = await browser.PostAsync(loginUrl, form.With(("Input.Email", user.Email), ("Input.Password", user.Password)), cancellationToken);
            var (afterLogin, _) = await browser.FollowAsync(posted, loginUrl, cancellationToken);
            using (afterLogin)
            {
                formPostPage = await afterLogin.Content.ReadAsStringAsync(cancellationToken);
            }
        }

        // OpenIddict's page posts the code to the storefront, which redeems it and opens the session.
        var callback = HtmlForm.Parse(formPostPage, "name=\"code\"");
        var callbackUrl = new Uri(callback.Action!);
        Assert.Equal(new Uri(Web, "/signin-oidc"), callbackUrl);
        return await browser.FollowAsync(await browser.PostAsync(callbackUrl, callback.With(), cancellationToken), callbackUrl, cancellationToken);
    }

    /// <summary>
    /// Starts an authorization request, lands on the sign-in page, and posts the credentials; returns the page that
    /// follows: OpenIddict's form_post page on success, the sign-in page with its errors otherwise.
    /// </summary>
    public async Task<(string Html, Uri Url)> SubmitLoginAsync(
        BrowserSession browser, AuthorizationRequest authorization, string email, string password, CancellationToken cancellationToken)
    {
        var (loginPage, loginUrl) = await OpenSignInPageAsync(browser, authorization, cancellationToken);
        var form = HtmlForm.Parse(loginPage, "Input.Password");
        var posted = await browser.PostAsync(loginUrl, form.With(("Input.Email", email), ("Input.Password", password)), cancellationToken);
        var (response, url) = await browser.FollowAsync(posted, loginUrl, cancellationToken);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadAsStringAsync(cancellationToken), url);
        }
    }

    /// <summary>Follows an authorization request to the identity service's sign-in page, through the gateway.</summary>
    public async Task<(string Html, Uri Url)> OpenSignInPageAsync(BrowserSession browser, AuthorizationRequest authorization, CancellationToken cancellationToken)
    {
        var authorizeUrl = authorization.Url(Gateway, RedirectUri);
        var (response, url) = await browser.FollowAsync(await browser.GetAsync(authorizeUrl, cancellationToken), authorizeUrl, cancellationToken);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Gateway.Authority, url.Authority);
            Assert.Equal("/account/login", url.AbsolutePath);
            return (await response.Content.ReadAsStringAsync(cancellationToken), url);
        }
    }

    /// <summary>An authorization request from a browser whose user is already signed in: answered with the code at once.</summary>
    public async Task<string> AuthorizeSignedInAsync(BrowserSession browser, AuthorizationRequest authorization, CancellationToken cancellationToken)
    {
        using var response = await browser.GetAsync(authorization.Url(Gateway, RedirectUri), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return ReadCode(await response.Content.ReadAsStringAsync(cancellationToken), authorization);
    }

    /// <summary>
    /// The code from OpenIddict's form_post page: a form that posts code and state to the storefront's redirect URI,
    /// as the browser would when the page's script submits it.
    /// </summary>
    public string ReadCode(string formPostPage, AuthorizationRequest authorization)
    {
        var form = HtmlForm.Parse(formPostPage, "name=\"code\"");
        Assert.Equal(RedirectUri.AbsoluteUri, form.Action);
        Assert.Equal(authorization.State, form.Fields["state"]);
        return form.Fields["code"];
    }

    public async Task<TokenSet> RedeemAsync(AuthorizationRequest authorization, string code, CancellationToken cancellationToken)
    {
        using var response = await PostTokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = RedirectUri.AbsoluteUri,
            ["code_verifier"] = authorization.CodeVerifier,
        }, cancellationToken);
        return await ReadTokensAsync(response, cancellationToken);
    }

    public async Task<TokenSet> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var response = await PostTokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
        }, cancellationToken);
        return await ReadTokensAsync(response, cancellationToken);
    }

    public async Task<HttpResponseMessage> PostTokenRequestAsync(Dictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        using var http = CreateGatewayClient();
        parameters["client_id"] = "web";
        parameters["client_secret"] = ClientSecret;
        return await http.PostAsync("/connect/token", new FormUrlEncodedContent(parameters), cancellationToken);
    }

    public HttpClient CreateGatewayClient(string? accessToken = null) => CreateClient("gateway", accessToken);

    /// <summary>A client straight to a service, bypassing the gateway.</summary>
    public HttpClient CreateClient(string resource, string? accessToken = null)
    {
        var http = app.CreateHttpClient(resource);
        if (accessToken is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return http;
    }

    private static async Task<TokenSet> ReadTokensAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"The token endpoint answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        return new TokenSet(
            root.GetProperty("access_token").GetString()!,
            root.TryGetProperty("refresh_token", out var refresh) ? refresh.GetString() : null,
            root.TryGetProperty("id_token", out var id) ? id.GetString() : null,
            root.GetProperty("expires_in").GetInt32());
    }
}

/// <summary>One authorization request with its PKCE verifier (S256), state and nonce, as the storefront makes them.</summary>
internal sealed record AuthorizationRequest(string Scope, string CodeVerifier, string State, string Nonce)
{
    public static AuthorizationRequest Create(string scope) => new(
        scope,
        Base64Url(RandomNumberGenerator.GetBytes(32)),
        Base64Url(RandomNumberGenerator.GetBytes(16)),
        Base64Url(RandomNumberGenerator.GetBytes(16)));

    public Uri Url(Uri gateway, Uri redirectUri) => new(QueryHelpers.AddQueryString(new Uri(gateway, "/connect/authorize").AbsoluteUri, new Dictionary<string, string?>
    {
        ["client_id"] = "web",
        ["response_type"] = "code",
        ["response_mode"] = "form_post",
        ["redirect_uri"] = redirectUri.AbsoluteUri,
        ["scope"] = Scope,
        ["state"] = State,
        ["nonce"] = Nonce,
        ["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(CodeVerifier))),
        ["code_challenge_method"] = "S256",
    }));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
