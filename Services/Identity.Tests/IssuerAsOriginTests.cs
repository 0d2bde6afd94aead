using System.Net;
using Identity.Api.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Identity.Tests;

/// <summary>The front of identity's pipeline, as Program.cs sets it up: what a request's origin and client are taken to be.</summary>
public class IssuerAsOriginTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    [Theory]
    [InlineData("localhost:5171", null)]
    [InlineData("localhost:5171", "127.0.0.1:5170")]
    [InlineData("localhost:5171", "evil.example")]
    [InlineData("evil.example", null)]
    [InlineData("127.0.0.1:5170", "localhost:5170")]
    public async Task Every_request_is_addressed_to_the_issuer_whatever_host_it_names(string host, string? forwardedHost)
    {
        var request = await ThroughAsync("http://localhost:5170", IPAddress.Loopback, host, forwardedHost, forwardedProto: "https");

        Assert.Equal("http", request.Scheme);
        Assert.Equal("localhost:5170", request.Host.Value);
        Assert.Equal("", request.PathBase.Value);
    }

    [Fact]
    public async Task An_issuer_with_https_and_a_path_gives_scheme_host_and_path_base()
    {
        var request = await ThroughAsync("https://shop.example/identity/", IPAddress.Loopback, "identity:8080", "evil.example", forwardedProto: "http");

        Assert.Equal("https", request.Scheme);
        Assert.Equal("shop.example", request.Host.Value);
        Assert.Equal("/identity", request.PathBase.Value);
        Assert.Equal("https://shop.example/identity/connect/authorize", request.GetEncodedUrl());
    }

    [Fact]
    public async Task The_client_address_is_taken_from_a_known_proxy_only()
    {
        var fromProxy = await ThroughAsync("http://localhost:5170", IPAddress.Loopback, "localhost:5171", null, null);
        var fromNetwork = await ThroughAsync("http://localhost:5170", IPAddress.Parse("10.1.2.3"), "localhost:5171", null, null);
        var fromStranger = await ThroughAsync("http://localhost:5170", IPAddress.Parse("192.0.2.10"), "localhost:5171", null, null);

        Assert.Equal(Client, fromProxy.HttpContext.Connection.RemoteIpAddress);
        Assert.Equal(Client, fromNetwork.HttpContext.Connection.RemoteIpAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), fromStranger.HttpContext.Connection.RemoteIpAddress);
    }

    /// <summary>A request to <c>/connect/authorize</c> from <paramref name="peer"/>, as the next middleware sees it.</summary>
    private static async Task<HttpRequest> ThroughAsync(string issuer, IPAddress peer, string host, string? forwardedHost, string? forwardedProto)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Identity:Url"] = issuer,
            ["ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/8",
        });
        builder.Services.AddLogging();
        builder.AddTrustedProxies();
        using var services = builder.Build();

        HttpRequest? seen = null;
        var app = new ApplicationBuilder(services.Services);
        app.UseIssuerAsOrigin();
        app.Run(context =>
        {
            seen = context.Request;
            return Task.CompletedTask;
        });

        var context = new DefaultHttpContext { RequestServices = services.Services };
        context.Connection.RemoteIpAddress = peer;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString(host);
        context.Request.Path = "/connect/authorize";
        context.Request.Headers["X-Forwarded-For"] = Client.ToString();
        if (forwardedHost is not null)
        {
            context.Request.Headers["X-Forwarded-Host"] = forwardedHost;
        }

        if (forwardedProto is not null)
        {
            context.Request.Headers["X-Forwarded-Proto"] = forwardedProto;
        }

        await app.Build()(context);
        return seen ?? throw new InvalidOperationException("The request did not get through.");
    }
}
