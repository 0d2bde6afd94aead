using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Shop.Dashboard.Authentication;

/// <summary>
/// Re-checks an open circuit's sign-in every few seconds: a circuit holds the sign-in it started with, so without this a
/// tab left open after <c>/logout</c> (in another tab) kept showing live telemetry. When the sign-in has ended the
/// circuit's user becomes anonymous, and the layout sends the tab to sign in.
/// </summary>
public sealed class DashboardAuthenticationStateProvider(ILoggerFactory loggerFactory, DashboardSessions sessions)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(5);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        Task.FromResult(sessions.IsActive(authenticationState.User));
}
