using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;

namespace Shop.Web.Authentication;

/// <summary>
/// Keeps the session's access token fresh: on each request, a token that expires within <see cref="RefreshBefore"/>
/// is replaced using the refresh token, and the cookie is rewritten. When the refresh is refused (the user was
/// locked out, the grant revoked), the session ends and the next page asks to sign in again.
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

        var now = timeProvider.GetUtcNow();
        if (!NeedsRefresh(context.Properties.GetTokenValue("expires_at"), now))
        {
            return;
        }

        var refreshToken = context.Properties.GetTokenValue("refresh_token");
        var tokens = refreshToken is null ? null : await RefreshAsync(refreshToken, context.HttpContext.RequestAborted);
        if (tokens?.AccessToken is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }

        context.Properties.UpdateTokenValue("access_token", tokens.AccessToken);
        if (tokens.RefreshToken is not null)
        {
            context.Properties.UpdateTokenValue("refresh_token", tokens.RefreshToken);
        }

        if (tokens.IdToken is not null)
        {
            context.Properties.UpdateTokenValue("id_token", tokens.IdToken);
        }

        var expiresAt = now.AddSeconds(tokens.ExpiresIn ?? 0);
        context.Properties.UpdateTokenValue("expires_at", expiresAt.ToString("o", CultureInfo.InvariantCulture));
        context.ShouldRenew = true;
    }

    /// <summary>
    /// Whether the access token whose expiry the session recorded (<c>expires_at</c>, round-trip format) must be
    /// refreshed at <paramref name="now"/>. No recorded expiry: nothing to refresh.
    /// </summary>
    internal static bool NeedsRefresh(string? expiresAt, DateTimeOffset now) =>
        DateTimeOffset.TryParse(expiresAt, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiry)
        && expiry - now <= RefreshBefore;

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
