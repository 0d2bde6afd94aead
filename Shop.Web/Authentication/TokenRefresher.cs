using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Shop.Web.Authentication;

/// <summary>
/// Keeps the session's access token fresh: on each request, a token that expires within <see cref="RefreshBefore"/>
/// is replaced using the refresh token, and the session is stored again (in Redis, or in the cookie when there is no
/// Redis). A live page's calls refresh their session the same way (<see cref="AccessTokenHandler"/>). When the refresh
/// is refused (the user was locked out, the grant revoked), the session ends and the next page asks to sign in again.
/// </summary>
public sealed partial class TokenRefresher(
    IOptionsMonitor<OpenIdConnectOptions> oidcOptions,
    TimeProvider timeProvider,
    ILogger<TokenRefresher> logger)
{
    public static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(1);

    public async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        switch (await RefreshIfDueAsync(context.Properties, context.HttpContext.RequestAborted))
        {
            case TokenRefresh.Refused:
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                break;
            case TokenRefresh.Refreshed:
                context.ShouldRenew = true;
                break;
        }
    }

    /// <summary>
    /// Replaces the tokens in <paramref name="properties"/> when the access token expires within
    /// <see cref="RefreshBefore"/>. <see cref="TokenRefresh.Refused"/>: the session must end.
    /// </summary>
    public async Task<TokenRefresh> RefreshIfDueAsync(AuthenticationProperties properties, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(properties);

        var now = timeProvider.GetUtcNow();
        if (!NeedsRefresh(properties.GetTokenValue("expires_at"), now))
        {
            return TokenRefresh.NotDue;
        }

        var refreshToken = properties.GetTokenValue("refresh_token");
        var tokens = refreshToken is null ? null : await RefreshAsync(refreshToken, cancellationToken);
        if (tokens?.AccessToken is null)
        {
            return TokenRefresh.Refused;
        }

        properties.UpdateTokenValue("access_token", tokens.AccessToken);
        if (tokens.RefreshToken is not null)
        {
            properties.UpdateTokenValue("refresh_token", tokens.RefreshToken);
        }

        if (tokens.IdToken is not null)
        {
            properties.UpdateTokenValue("id_token", tokens.IdToken);
        }

        var expiresAt = now.AddSeconds(tokens.ExpiresIn ?? 0);
        properties.UpdateTokenValue("expires_at", expiresAt.ToString("o", CultureInfo.InvariantCulture));
        return TokenRefresh.Refreshed;
    }

    /// <summary>
    /// Whether the access token whose expiry the session recorded (<c>expires_at</c>, round-trip format) must be
    /// refreshed at <paramref name="now"/>. No recorded expiry: nothing to refresh.
    /// </summary>
    internal static bool NeedsRefresh(string? expiresAt, DateTimeOffset now) =>
        TryParseExpiry(expiresAt, out var expiry) && expiry - now <= RefreshBefore;

    /// <summary>When the session's access token expires; <see cref="DateTimeOffset.MinValue"/> when not recorded.</summary>
    public static DateTimeOffset ExpiryOf(AuthenticationProperties properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        return TryParseExpiry(properties.GetTokenValue("expires_at"), out var expiry) ? expiry : DateTimeOffset.MinValue;
    }

    private static bool TryParseExpiry(string? expiresAt, out DateTimeOffset expiry) =>
        DateTimeOffset.TryParse(expiresAt, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out expiry);

    private async Task<TokenResponse?> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var options = oidcOptions.Get(OpenIdConnectDefaults.AuthenticationScheme);
        try
        {
            var configuration = await options.ConfigurationManager!.GetConfigurationAsync(cancellationToken);
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = refreshToken,
                ["client_id"] = options.ClientId!,
            };
            if (options.ClientSecret is { Length: > 0 } secret)
            {
                form["client_secret"] = secret;
            }

            using var response = await options.Backchannel.PostAsync(configuration.TokenEndpoint, new FormUrlEncodedContent(form), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogRefreshRefused(logger, (int)response.StatusCode);
                return null;
            }

            return await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or InvalidOperationException or System.Text.Json.JsonException)
        {
            LogRefreshFailed(logger, exception);
            return null;
        }
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("refresh_token")] string? RefreshToken,
        [property: JsonPropertyName("id_token")] string? IdToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);

    [LoggerMessage(Level = LogLevel.Information, Message = "The identity service refused to refresh the session's tokens ({StatusCode}); the user must sign in again")]
    private static partial void LogRefreshRefused(ILogger logger, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the session's tokens failed; the user must sign in again")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

/// <summary>What <see cref="TokenRefresher.RefreshIfDueAsync"/> did.</summary>
public enum TokenRefresh
{
    /// <summary>The access token is good for longer than <see cref="TokenRefresher.RefreshBefore"/>: nothing done.</summary>
    NotDue,

    /// <summary>New tokens are in the session's properties, to be stored.</summary>
    Refreshed,

    /// <summary>The identity service refused (or did not answer): the session must end.</summary>
    Refused,
}
