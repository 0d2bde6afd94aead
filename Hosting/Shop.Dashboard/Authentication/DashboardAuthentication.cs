using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Authentication;

public static class DashboardAuthenticationDefaults
{
    /// <summary>The browser's sign-in cookie, issued by <c>/login</c>.</summary>
    public const string CookieScheme = "DashboardCookie";

    /// <summary>The browser token presented by a script: <c>Authorization: Bearer TOKEN</c> or <c>x-dashboard-api-key: TOKEN</c>.</summary>
    public const string ApiTokenScheme = "DashboardApiToken";

    /// <summary>Picks <see cref="ApiTokenScheme"/> when a token header is present, the cookie otherwise.</summary>
    public const string SelectorScheme = "Dashboard";

    /// <summary>The policy on every page and API endpoint; it lets everyone in when the frontend runs unsecured.</summary>
    public const string Policy = "DashboardUser";

    public const string ApiKeyHeader = "x-dashboard-api-key";

    /// <summary>The sign-in cookie's name; the frontend port is appended.</summary>
    public const string CookieName = ".Shop.Dashboard.Auth";

    /// <summary>How long a sign-in cookie lasts after its last use (it slides).</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(3);

    /// <summary>The antiforgery cookie's name (sign-in form); the frontend port is appended.</summary>
    public const string AntiforgeryCookieName = ".Shop.Dashboard.Antiforgery";
}

/// <summary>Checks a presented browser token against the configured one in constant time.</summary>
public sealed class BrowserTokenValidator(IOptions<DashboardOptions> options)
{
    public bool IsSecured => options.Value.Frontend.AuthMode == FrontendAuthMode.BrowserToken;

    public bool IsValid(string? presented)
    {
        var expected = options.Value.Frontend.BrowserToken;
        return !string.IsNullOrEmpty(presented)
            && !string.IsNullOrEmpty(expected)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
    }

    /// <param name="sessionId">A cookie sign-in's session, which <c>/logout</c> ends (<see cref="DashboardSessions"/>).</param>
    public static ClaimsPrincipal CreatePrincipal(string scheme, string? sessionId = null) =>
        new(new ClaimsIdentity(
            sessionId is null
                ? [new Claim(ClaimTypes.Name, "dashboard-user")]
                : [new Claim(ClaimTypes.Name, "dashboard-user"), new Claim(DashboardSessions.SessionClaimType, sessionId)],
            scheme));
}

/// <summary>Authenticates scripts that send the browser token in a header; absent header means no result.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    BrowserTokenValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public static bool HasToken(HttpRequest request) =>
        request.Headers.ContainsKey(DashboardAuthenticationDefaults.ApiKeyHeader)
        || request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = Request.Headers[DashboardAuthenticationDefaults.ApiKeyHeader];
        var authorization = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(token) && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = authorization["Bearer ".Length..].Trim();
        }

        if (string.IsNullOrEmpty(token))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(validator.IsValid(token)
            ? AuthenticateResult.Success(new AuthenticationTicket(BrowserTokenValidator.CreatePrincipal(Scheme.Name), Scheme.Name))
            : AuthenticateResult.Fail("Wrong dashboard token."));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
