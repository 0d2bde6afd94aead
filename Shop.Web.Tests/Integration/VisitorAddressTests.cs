using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Collections.Concurrent;
using System.Net;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// The storefront tells the gateway who each visitor is (<c>X-Forwarded-For</c>), and the gateway limits anonymous
/// visitors by that address. The AppHost sets <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>, with which ASP.NET
/// Core would take the address from anyone's <c>X-Forwarded-For</c>: a visitor could name a new address with every
/// request and never be limited. Only a trusted proxy's word counts.
/// </summary>
public sealed class VisitorAddressTests : StorefrontBeforeStandInGateway
{
    private const string ClaimedAddress = "198.51.100.7";
    private readonly ConcurrentQueue<string> _forwardedFor = new();

    protected override IEnumerable<KeyValuePair<string, string>> StorefrontSettings =>
    [
        new("FORWARDEDHEADERS_ENABLED", "true"),
        // One value with commas, as a published ConfigMap gives it.
        new("ForwardedHeaders:KnownNetworks", "10.244.0.0/16, fd00::/8"),
    ];

    protected override void MapGateway(WebApplication gateway) =>
        gateway.Map("/{**path}", (HttpContext context) =>
        {
            _forwardedFor.Enqueue(context.Request.Headers["X-Forwarded-For"].ToString());
            return Results.NotFound();
        });

    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")] // a visitor: their own address, whatever they claim
    [InlineData("10.245.0.1", "10.245.0.1")] // outside the known network
    [InlineData("10.244.1.5", ClaimedAddress)] // an ingress in the pod network
    [InlineData("fd00::12", ClaimedAddress)]
    [InlineData("127.0.0.1", ClaimedAddress)] // a proxy on the same machine
    public async Task The_gateway_is_told_the_address_the_visitor_came_from_unless_a_trusted_proxy_names_another(string peer, string expected)
    {
        var answered = await SendAsync(context =>
        {
            context.Request.Method = HttpMethods.Get;
            context.Request.Path = "/catalog/pictures/1";
            context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
            context.Request.Headers["X-Forwarded-For"] = ClaimedAddress;
        });

        Assert.Equal(StatusCodes.Status404NotFound, answered.Response.StatusCode);
        Assert.Equal(expected, Assert.Single(_forwardedFor));
    }
}
