using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authentication;

namespace Shop.Web.Authentication;

/// <summary>
/// On every call to the gateway made for a visitor: their access token when they are signed in (the gateway and
/// the services act for that user), and their address in <c>X-Forwarded-For</c>, so that the gateway limits each
/// anonymous visitor rather than the whole storefront.
/// </summary>
public sealed class GatewayRequestHandler(IHttpContextAccessor httpContextAccessor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (httpContextAccessor.HttpContext is { } context)
        {
            if (context.Connection.RemoteIpAddress is { } address)
            {
                request.Headers.Remove("X-Forwarded-For");
                request.Headers.Add("X-Forwarded-For", address.ToString());
            }

            if (context.User.Identity?.IsAuthenticated == true
                && await context.GetTokenAsync("access_token") is { Length: > 0 } accessToken)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            }
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
