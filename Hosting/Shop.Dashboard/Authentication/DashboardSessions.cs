using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;

namespace Shop.Dashboard.Authentication;

/// <summary>
/// The cookie sign-ins that were signed out. Each sign-in carries a session id; <c>/logout</c> ends it here, so the
/// cookie is refused from then on (a copy of it too), and open Blazor circuits, which never see the cookie again,
/// learn of it through <see cref="DashboardAuthenticationStateProvider"/>.
/// </summary>
public sealed class DashboardSessions(TimeProvider timeProvider)
{
    public const string SessionClaimType = "dashboard-session";

    private readonly ConcurrentDictionary<string, DateTimeOffset> _ended = new(StringComparer.Ordinal);

    public static string NewSessionId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public void End(ClaimsPrincipal user)
    {
        if (user.FindFirst(SessionClaimType)?.Value is not { } id)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        _ended[id] = now;

        // An ended session's cookie is never renewed, so it expires within one cookie lifetime: no need to remember it longer.
        foreach (var (endedId, endedAt) in _ended)
        {
            if (now - endedAt > DashboardAuthenticationDefaults.CookieLifetime)
            {
                _ended.TryRemove(endedId, out _);
            }
        }
    }

    /// <summary>False once the user's sign-in was signed out; true for users without a sign-in session (API token, unsecured).</summary>
    public bool IsActive(ClaimsPrincipal user) =>
        user.FindFirst(SessionClaimType)?.Value is not { } id || !_ended.ContainsKey(id);
}
