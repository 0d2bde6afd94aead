using System.Net;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests;

/// <summary>
/// <see cref="ReplicaFailover"/> in the gateway's proxy pipeline, on real Kestrel servers: a request whose connection a
/// replica refuses goes to another (its body intact); one that reached a replica is never sent again; with every
/// replica down the answer is the gateway's 503.
/// </summary>
public sealed class ReplicaFailoverTests : IAsyncLifetime
{
    private WebApplication _replica = null!;
    private WebApplication _proxy = null!;
    private HttpClient _client = null!;
    private int _dyingCalls;

    public async Task InitializeAsync()
    {
        _replica = KestrelApps.CreateSlim(app =>
        {
            app.MapPost("/half-up/upload", async (HttpRequest request) => (await new StreamReader(request.Body).ReadToEndAsync()).Length);
            app.MapGet("/dies", (HttpContext context) =>
            {
                Interlocked.Increment(ref _dyingCalls);
                context.Abort();
            });
        });
        await _replica.StartAsync();

        var live = KestrelApps.AddressOf(_replica);
        string Closed() => $"http://127.0.0.1:{KestrelApps.ClosedPort()}";
        _proxy = KestrelApps.CreateSlim(
            app =>
            {
                app.UseProblemStatusCodePages();
                app.MapReverseProxy(proxy => proxy.UseGatewayProxyPipeline());
            },
            builder =>
            {
                builder.Services.AddProblemDetails();
                builder.Services.AddReverseProxy().LoadFromMemory(
                    [Route("half-up", "/half-up/{**rest}"), Route("both-up", "/dies"), Route("all-down", "/all-down/{**rest}")],
                    [
                        Cluster("half-up", Closed(), live, Closed()),
                        Cluster("both-up", live, live),
                        Cluster("all-down", Closed(), Closed()),
                    ]);
            });
        await _proxy.StartAsync();
        _client = KestrelApps.ClientOf(_proxy);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _proxy.DisposeAsync();
        await _replica.DisposeAsync();
    }

    [Fact]
    public async Task Requests_refused_by_replicas_that_are_down_go_to_the_one_that_is_up_with_their_bodies()
    {
        // Load balancing picks at random: among 30 requests, many try a replica that is down first.
        for (var i = 0; i < 30; i++)
        {
            var body = new string('x', 100 + i);
            using var response = await _client.PostAsync("/half-up/upload", new StringContent(body));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_request_that_reached_a_replica_is_not_sent_again_when_the_replica_fails_it()
    {
        using var response = await _client.GetAsync("/dies");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, Volatile.Read(ref _dyingCalls));
    }

    [Fact]
    public async Task With_every_replica_down_the_request_is_unavailable_with_Retry_After()
    {
        using var response = await _client.GetAsync("/all-down/items");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(ProblemDetailsExtensions.UnavailableRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static RouteConfig Route(string cluster, string path) =>
        new() { RouteId = cluster, ClusterId = cluster, Match = new RouteMatch { Path = path } };

    private static ClusterConfig Cluster(string id, params string[] addresses) => new()
    {
        ClusterId = id,
        Destinations = addresses.Select((address, i) => (address, i)).ToDictionary(d => $"replica-{d.i}", d => new DestinationConfig { Address = d.address }),
    };
}
