using System.Net;
using System.Net.Sockets;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests;

/// <summary>
/// A YARP proxy answering as the gateway does (<see cref="UnreachableServices"/>, problem details for bare status
/// codes) on real Kestrel servers: a service that is not there is unavailable for now, one that dies mid-answer is a
/// bad gateway, and one that answers is passed through.
/// </summary>
public sealed class UnreachableServicesTests : IAsyncLifetime
{
    private WebApplication _backend = null!;
    private WebApplication _proxy = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _backend = KestrelApps.CreateSlim(app =>
        {
            app.MapGet("/items", () => "ok");
            app.MapGet("/dies", (HttpContext context) => context.Abort());
        });
        await _backend.StartAsync();

        var closedPort = ClosedPort();
        _proxy = KestrelApps.CreateSlim(
            app =>
            {
                app.UseStatusCodePages();
                app.MapReverseProxy(proxy => proxy.UseUnreachableServiceAnswers());
            },
            builder =>
            {
                builder.Services.AddProblemDetails();
                builder.Services.AddReverseProxy().LoadFromMemory(
                    [Route("up", "/items"), Route("up", "/dies"), Route("down", "/down/{**rest}")],
                    [Cluster("up", KestrelApps.AddressOf(_backend)), Cluster("down", $"http://127.0.0.1:{closedPort}")]);
            });
        await _proxy.StartAsync();
        _client = KestrelApps.ClientOf(_proxy);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _proxy.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task A_service_that_refuses_the_connection_is_unavailable_with_Retry_After()
    {
        using var response = await _client.PostAsync("/down/orders", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(ProblemDetailsExtensions.UnavailableRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_service_that_dies_mid_answer_is_a_bad_gateway_without_a_retry_hint()
    {
        using var response = await _client.GetAsync("/dies");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_service_that_answers_is_passed_through()
    {
        using var response = await _client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    private static RouteConfig Route(string cluster, string path) =>
        new() { RouteId = $"{cluster}{path}", ClusterId = cluster, Match = new RouteMatch { Path = path } };

    private static ClusterConfig Cluster(string id, string address) =>
        new() { ClusterId = id, Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = address } } };

    /// <summary>A loopback port nothing listens on: bound for a moment to find it, then closed.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
