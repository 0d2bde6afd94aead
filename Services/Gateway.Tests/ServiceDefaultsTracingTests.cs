using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>The tracing every Shop process gets from AddServiceDefaults, on a real Kestrel server.</summary>
public sealed class ServiceDefaultsTracingTests : StartedAppTests
{
    protected override WebApplication CreateApp() => KestrelApps.CreateSlim(
        app => app.MapGet("/context", () =>
        {
            var activity = Activity.Current;
            return new RequestContext(
                activity?.TraceId.ToHexString(),
                activity?.ParentSpanId.ToHexString(),
                activity?.GetBaggageItem("tenant"),
                OpenTelemetry.Baggage.Current.Count);
        }),
        builder => builder.AddServiceDefaults());

    [Fact]
    public async Task A_request_continues_its_callers_trace_and_baggage_without_a_second_extraction()
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var parentSpanId = ActivitySpanId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/context");
        request.Headers.Add("traceparent", $"00-{traceId}-{parentSpanId}-01");
        request.Headers.Add("baggage", "tenant=shop");

        using var response = await Client.SendAsync(request);
        var context = await response.Content.ReadFromJsonAsync<RequestContext>();

        Assert.NotNull(context);
        Assert.Equal(traceId, context.TraceId);
        Assert.Equal(parentSpanId, context.ParentSpanId);
        // ASP.NET Core takes the baggage onto the request's activity, where HttpClient passes it on...
        Assert.Equal("shop", context.ActivityBaggage);
        // ...and OpenTelemetry's propagator does not parse the headers again into its own async-local baggage.
        Assert.Equal(0, context.OpenTelemetryBaggageItems);
    }

    private sealed record RequestContext(string? TraceId, string? ParentSpanId, string? ActivityBaggage, int OpenTelemetryBaggageItems);
}
