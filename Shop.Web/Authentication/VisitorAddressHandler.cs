namespace Shop.Web.Authentication;

/// <summary>
/// On every call to the gateway made for a visitor: their address in <c>X-Forwarded-For</c>, so that the gateway
/// limits each anonymous visitor rather than the whole storefront.
/// </summary>
public sealed class VisitorAddressHandler(IHttpContextAccessor httpContextAccessor) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (httpContextAccessor.HttpContext?.Connection.RemoteIpAddress is { } address)
        {
            request.Headers.Remove("X-Forwarded-For");
            request.Headers.Add("X-Forwarded-For", address.ToString());
        }

        return base.SendAsync(request, cancellationToken);
    }
}
