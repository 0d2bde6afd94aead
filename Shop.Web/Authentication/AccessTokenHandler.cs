using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authentication;

namespace Shop.Web.Authentication;

/// <summary>
/// The signed-in visitor's access token on calls to the gateway, so the gateway and the services act for that user.
/// With sessions in Redis (<see cref="RedisSessionStore"/>) the token is the session's current one, read from there on
/// every call: an interactive page's circuit keeps the request it was opened with, whose cookie never changes, and
/// would otherwise send the token of that moment after another tab had signed out, or after it expired. A token due
/// for refresh is refreshed here as on a page request. Without Redis, the token is the one in the request's cookie.
/// </summary>
public sealed class AccessTokenHandler(
    IHttpContextAccessor httpContextAccessor,
    TokenRefresher tokenRefresher,
    RedisSessionStore? sessions = null) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (httpContextAccessor.HttpContext is { User.Identity.IsAuthenticated: true } context
            && await AccessTokenAsync(context, cancellationToken) is { Length: > 0 } accessToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return await base.SendAsync(request, cancellationToken);
    }

    /// <summary>The session's access token; null when the session has ended (the call then goes without one, and is refused as a visitor's).</summary>
    private async Task<string?> AccessTokenAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (sessions is null || context.User.FindFirst(RedisSessionStore.SessionKeyClaimType)?.Value is not { Length: > 0 } key)
        {
            return await context.GetTokenAsync("access_token");
        }

        if (await sessions.RetrieveAsync(key, cancellationToken) is not { } session)
        {
            return null;
        }

        // A page request that refreshed its tokens itself has the newer ones: the cookie handler stores them only as
        // the response starts.
        if ((await context.AuthenticateAsync()).Properties is { } own && TokenRefresher.ExpiryOf(own) > TokenRefresher.ExpiryOf(session.Properties))
        {
            return own.GetTokenValue("access_token");
        }

        switch (await tokenRefresher.RefreshIfDueAsync(session.Properties, cancellationToken))
        {
            case TokenRefresh.Refreshed:
                await sessions.RenewAsync(key, session, cancellationToken);
                break;
            case TokenRefresh.Refused:
                await sessions.RemoveAsync(key, cancellationToken);
                return null;
        }

        return session.Properties.GetTokenValue("access_token");
    }
}
