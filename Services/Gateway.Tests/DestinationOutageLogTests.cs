using System.Net;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Testing;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests;

/// <summary>
/// What the gateway's proxy logs about a replica that is down (<see cref="DestinationOutageLog"/>), on real Kestrel
/// servers and with every log level collected: one warning when it starts refusing connections however many it
/// refuses, each refusal at Debug, and one information line when it answers again.
/// </summary>
public sealed class DestinationOutageLogTests : IAsyncLifetime
{
    private const int Requests = 25;

    private readonly LogCollector _log = new();
    private readonly int _downPort = KestrelApps.ClosedPort();
    private WebApplication _live = null!;
    private WebApplication _proxy = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _live = Replica();
        await _live.StartAsync();

        var down = $"http://127.0.0.1:{_downPort}";
        _proxy = KestrelApps.CreateSlim(
            app =>
            {
                app.UseProblemStatusCodePages();
                app.MapReverseProxy(proxy => proxy.UseGatewayProxyPipeline());
            },
            builder =>
            {
                // The gateway's shipped settings (in the output directory) log YARP from Warning up: its Debug lines are wanted here.
                builder.Logging.AddProvider(_log).SetMinimumLevel(LogLevel.Trace).AddFilter("Yarp", LogLevel.Debug);
                builder.Services.AddProblemDetails();
                builder.Services.AddReverseProxy()
                    .LoadFromMemory(
                        [Route("one-down", "/one-down/{**rest}"), Route("half-up", "/half-up/{**rest}")],
                        [Cluster("one-down", down), Cluster("half-up", KestrelApps.AddressOf(_live), down)])
                    .LogDestinationOutages();
            });
        await _proxy.StartAsync();
        _client = KestrelApps.ClientOf(_proxy);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _proxy.DisposeAsync();
        await _live.DisposeAsync();
    }

    [Fact]
    public async Task Connections_refused_by_a_dead_replica_give_one_warning_and_its_return_one_information_line()
    {
        for (var i = 0; i < Requests; i++)
        {
            using var response = await _client.GetAsync("/one-down/items");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        var warning = Assert.Single(_log.Entries, entry => entry.Level >= LogLevel.Warning);
        Assert.Contains($"127.0.0.1:{_downPort}", warning.Message, StringComparison.Ordinal);
        Assert.Equal(Requests, _log.Entries.Count(entry => entry.Level == LogLevel.Debug && UnreachableServices.IsRefusedConnection(entry.Exception)));

        await using var revived = Replica(_downPort);
        await revived.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            using var response = await _client.GetAsync("/one-down/items");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var recovered = Assert.Single(_log.Entries, entry => entry.Message.Contains("answers again, after", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, recovered.Level);
        Assert.Contains($"after {Requests} refused connections", recovered.Message, StringComparison.Ordinal);
        Assert.Single(_log.Entries, entry => entry.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Requests_failing_over_from_a_dead_replica_give_one_warning()
    {
        // Load balancing picks at random: among the requests, many try the dead replica first.
        for (var i = 0; i < Requests * 2; i++)
        {
            using var response = await _client.GetAsync("/half-up/items");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(_log.Entries.Count(entry => UnreachableServices.IsRefusedConnection(entry.Exception)) > 1, "Requests should have tried the dead replica.");
        Assert.Single(_log.Entries, entry => entry.Level >= LogLevel.Warning);
    }

    private static WebApplication Replica(int port = 0) => KestrelApps.CreateSlim(
        app => app.MapGet("/{**rest}", () => "ok"),
        builder => builder.WebHost.UseUrls($"http://127.0.0.1:{port}"));

    private static RouteConfig Route(string cluster, string path) =>
        new() { RouteId = cluster, ClusterId = cluster, Match = new RouteMatch { Path = path } };

    private static ClusterConfig Cluster(string id, params string[] addresses) => new()
    {
        ClusterId = id,
        Destinations = addresses.Select((address, i) => (address, i)).ToDictionary(d => $"{id}-{d.i}", d => new DestinationConfig { Address = d.address }),
    };
}
