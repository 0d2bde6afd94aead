using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>
/// Whether AddServiceDefaults records spans depends on whether anything receives them: without an OTLP endpoint a
/// request's activity only carries the trace context on.
/// </summary>
[Collection(nameof(ActivitySamplingCollection))]
public sealed class ServiceDefaultsSamplingTests
{
    [Fact]
    public async Task Without_an_otlp_endpoint_a_request_continues_its_callers_trace_but_is_not_recorded()
    {
        // The AppHost sets always_on in run mode, dashboard or not: with nowhere to send spans it must not win.
        var context = await RequestContextAsync(new Dictionary<string, string?> { ["OTEL_TRACES_SAMPLER"] = "always_on" });

        Assert.Equal(context.CallerTraceId, context.TraceId);
        Assert.False(context.Recorded);
        Assert.False(context.AllDataRequested);
    }

    [Fact]
    public async Task With_an_otlp_endpoint_a_request_is_recorded()
    {
        // Nothing listens on the discard port: the exporter's calls fail quietly, after the request was recorded.
        var context = await RequestContextAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
            ["OTEL_TRACES_SAMPLER"] = "always_on",
        });

        Assert.Equal(context.CallerTraceId, context.TraceId);
        Assert.True(context.Recorded);
        Assert.True(context.AllDataRequested);
    }

    private static async Task<RequestContext> RequestContextAsync(Dictionary<string, string?> configuration)
    {
        await using var app = KestrelApps.CreateSlim(
            app => app.MapGet("/context", () => new RequestContext(
                null,
                Activity.Current?.TraceId.ToHexString(),
                Activity.Current?.Recorded ?? false,
                Activity.Current?.IsAllDataRequested ?? false)),
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(configuration);
                builder.AddServiceDefaults();
            });
        await app.StartAsync();
        using var client = KestrelApps.ClientOf(app);

        var callerTraceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/context");
        request.Headers.Add("traceparent", $"00-{callerTraceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var context = await response.Content.ReadFromJsonAsync<RequestContext>();
        Assert.NotNull(context);
        return context with { CallerTraceId = callerTraceId };
    }

    private sealed record RequestContext(string? CallerTraceId, string? TraceId, bool Recorded, bool AllDataRequested);
}
