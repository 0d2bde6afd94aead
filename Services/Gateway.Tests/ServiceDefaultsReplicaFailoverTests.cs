using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;

namespace Gateway.Tests;

/// <summary>
/// A service with two replicas, one of them down (its port refuses connections), called through an HttpClient with
/// the service defaults, as ordering calls products.
/// </summary>
public sealed class ServiceDefaultsReplicaFailoverTests : IAsyncLifetime
{
    private readonly WebApplication _live = KestrelApps.CreateSlim(app =>
    {
        app.MapGet("/items", () => "live");
    });

    private int _calls;

    public async Task InitializeAsync()
    {
        _live.Use((context, next) =>
        {
            Interlocked.Increment(ref _calls);
            return next(context);
        });
        await _live.StartAsync();
    }

    public async Task DisposeAsync() => await _live.DisposeAsync();

    [Fact]
    public async Task Every_call_is_answered_by_the_live_replica_without_waiting_for_a_retry()
    {
        using var host = Client(out var client);
        // The standard retry waits 20 s here: a call that needed it could not finish in time.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("live", await client.GetStringAsync("/items", timeout.Token));
        }

        Assert.Equal(20, Volatile.Read(ref _calls));
    }

    private IHost Client(out HttpClient client)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:products:http:0"] = $"http://127.0.0.1:{RefusingPort()}",
            ["services:products:http:1"] = KestrelApps.AddressOf(_live),
        });
        builder.AddServiceDefaults();
        builder.Services.ConfigureAll<HttpStandardResilienceOptions>(options =>
        {
            options.Retry.Delay = TimeSpan.FromSeconds(20);
            options.Retry.UseJitter = false;
            options.Retry.BackoffType = Polly.DelayBackoffType.Constant;
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(90);
        });
        builder.Services.AddHttpClient("products", http => http.BaseAddress = new Uri("http://products"));
        var host = builder.Build();
        client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("products");
        return host;
    }

    /// <summary>A loopback port nobody listens on: taken from the system, then given back.</summary>
    private static int RefusingPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
