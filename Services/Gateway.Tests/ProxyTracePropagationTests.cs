using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests;

/// <summary>
/// A YARP proxy set up as the gateway's (<see cref="ProxyTracePropagation"/>) in front of a backend that records the
/// trace headers it receives, both on real Kestrel servers, with every activity of ASP.NET Core and HttpClient
/// recorded: the backend's parent is the proxy's request span, the caller's trace goes on, and no client span is made.
/// </summary>
[Collection(nameof(ActivitySamplingCollection))]
public sealed class ProxyTracePropagationTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<Activity> _activities = new();
    private readonly ConcurrentQueue<(string? TraceParent, string? TraceState)> _received = new();
    private ActivityListener _listener = null!;
    private WebApplication _backend = null!;
    private WebApplication _proxy = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _activities.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);

        _backend = KestrelApps.CreateSlim(app => app.MapGet("/items", (HttpRequest request) =>
        {
            _received.Enqueue((request.Headers.TraceParent.SingleOrDefault(), request.Headers.TraceState.SingleOrDefault()));
            return "ok";
        }));
        await _backend.StartAsync();

        _proxy = KestrelApps.CreateSlim(
            app => app.MapReverseProxy(),
            builder => builder.Services.AddReverseProxy()
                .LoadFromMemory(
                    [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**catch-all}" } }],
                    [new ClusterConfig
                    {
                        ClusterId = "backend",
                        Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = KestrelApps.AddressOf(_backend) } },
                    }])
                .PropagateRequestSpan());
        await _proxy.StartAsync();

        _client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = new Uri(KestrelApps.AddressOf(_proxy)) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _proxy.DisposeAsync();
        await _backend.DisposeAsync();
        _listener.Dispose();
    }

    [Fact]
    public async Task The_backend_is_a_child_of_the_proxys_request_span_in_the_callers_trace_and_no_client_span_is_made()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpanId = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{callerSpanId}-01");
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=kept");

        using var response = await _client.SendAsync(request);
        response.EnsureSuccessStatusCode();

        var (traceParent, traceState) = Assert.Single(_received);
        var proxySpan = await ProxyRequestSpanAsync(traceId);
        Assert.Equal(callerSpanId, proxySpan.ParentSpanId);
        Assert.Equal($"00-{traceId}-{proxySpan.SpanId}-01", traceParent);
        Assert.Equal("vendor=kept", traceState);
        Assert.DoesNotContain(_activities, a => a.Source.Name == "System.Net.Http" && a.TraceId == traceId);
    }

    [Fact]
    public async Task A_request_without_trace_headers_starts_a_trace_that_the_backend_joins()
    {
        using var response = await _client.GetAsync("/items");
        response.EnsureSuccessStatusCode();

        var (traceParent, _) = Assert.Single(_received);
        Assert.NotNull(traceParent);
        var parts = traceParent.Split('-');
        var proxySpan = await ProxyRequestSpanAsync(ActivityTraceId.CreateFromString(parts[1]));
        Assert.Equal(default, proxySpan.ParentSpanId);
        Assert.Equal(proxySpan.SpanId.ToHexString(), parts[2]);
    }

    [Fact]
    public void Trace_headers_of_the_caller_are_dropped_when_there_is_no_span_to_pass_on()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://backend/items");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01");
        request.Headers.TryAddWithoutValidation("baggage", "user=someone");

        ProxyTracePropagation.ReplaceTraceContext(request, current: null);

        Assert.False(request.Headers.Contains("traceparent"));
        Assert.False(request.Headers.Contains("baggage"));
    }

    /// <summary>The proxy's request span of the trace: it stops after the response is sent, so it may come a moment later.</summary>
    private async Task<Activity> ProxyRequestSpanAsync(ActivityTraceId traceId)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            // The backend's request span is in the same trace: the proxy's is the one the backend's hangs under.
            var spans = _activities.Where(a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == traceId).ToList();
            var proxySpan = spans.FirstOrDefault(a => spans.Any(child => child.ParentSpanId == a.SpanId));
            if (proxySpan is not null)
            {
                return proxySpan;
            }

            await Task.Delay(20);
        }

        throw new Xunit.Sdk.XunitException($"no request span of the proxy in trace {traceId}");
    }
}
