using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authentication;

namespace Shop.Web.Authentication;

/// <summary>
/// The signed-in visitor's access token on calls to the gateway, so the gateway and the services act for that user.
/// In an interactive page the session is the one its circuit was opened with (Blazor keeps that connection's
/// HttpContext): the token is the one the session cookie held then, refreshed by <see cref="TokenRefresher"/> on
/// that request.
/// </summary>
public sealed class AccessTokenHandler(IHttpContextAccessor httpContextAccessor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (httpContextAccessor.HttpContext is { User.Identity.IsAuthenticated: true } context
            && await context.GetTokenAsync("access_token") is { Length: > 0 } accessToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
