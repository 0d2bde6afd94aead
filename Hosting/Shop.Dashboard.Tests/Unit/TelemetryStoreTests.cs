using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Trace.V1;
using Shop.Dashboard.Configuration;
using Shop.Dashboard.Telemetry;
using Shop.Dashboard.Telemetry.Persistence;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Shop.Dashboard.Tests.Unit;

public sealed class TelemetryStoreTests
{
    [Fact]
    public void Logs_are_capped_per_resource_and_in_total_evicting_the_oldest()
    {
        var (ingestion, stores) = Create(limits => { limits.MaxLogCountPerResource = 3; limits.MaxLogCount = 5; });
        ingestion.AddLogs(Logs("a", "a1", "a2", "a3", "a4"));
        ingestion.AddLogs(Logs("b", "b1", "b2"));
        ingestion.AddLogs(Logs("c", "c1"));

        var all = stores.Logs.Query(new LogQuery(Limit: 100)).Entries.Select(e => e.Message).ToList();
        // a keeps its newest 3 (a2..a4); the total cap of 5 then evicts the oldest overall (a2).
        Assert.Equal(["c1", "b2", "b1", "a4", "a3"], all);
        Assert.Equal(5, stores.Logs.Count);
    }

    [Fact]
    public void Log_queries_filter_by_resource_level_text_and_attribute()
    {
        var (ingestion, stores) = Create();
        var request = Logs("orders", "placed order 1", "payment failed");
        request.ResourceLogs[0].ScopeLogs[0].LogRecords[1].SeverityNumber = SeverityNumber.Error;
        request.ResourceLogs[0].ScopeLogs[0].LogRecords[1].Attributes.Add(new KeyValue { Key = "OrderId", Value = new AnyValue { IntValue = 17 } });
        ingestion.AddLogs(request);
        ingestion.AddLogs(Logs("basket", "basket emptied"));

        Assert.Equal(["payment failed"], Messages(stores, new LogQuery(MinLevel: Microsoft.Extensions.Logging.LogLevel.Warning)));
        Assert.Equal(["basket emptied"], Messages(stores, new LogQuery(Resource: "basket")));
        Assert.Equal(["placed order 1"], Messages(stores, new LogQuery(Text: "PLACED")));
        Assert.Equal(["payment failed"], Messages(stores, new LogQuery(Attribute: "orderid", AttributeValue: "17")));
        Assert.Empty(Messages(stores, new LogQuery(Attribute: "orderid", AttributeValue: "18")));
    }

    [Fact]
    public void Traces_are_capped_by_count_and_by_spans_evicting_the_oldest_trace()
    {
        var (ingestion, stores) = Create(limits => { limits.MaxTraceCount = 3; limits.MaxSpanCount = 7; limits.MaxSpansPerTrace = 4; });
        var ids = Enumerable.Range(0, 5).Select(_ => NewTraceId()).ToList();
        foreach (var id in ids)
        {
            ingestion.AddTraces(Spans("svc", id, 2));
        }

        Assert.Equal(3, stores.Traces.Stats.TraceCount);
        Assert.Null(stores.Traces.Get(Hex(ids[1])));
        Assert.NotNull(stores.Traces.Get(Hex(ids[4])));

        // One more trace of 3 spans pushes spans to 9 > 7: oldest traces go until it fits.
        ingestion.AddTraces(Spans("svc", NewTraceId(), 3));
        Assert.True(stores.Traces.Stats.SpanCount <= 7);

        // Spans past the per-trace cap are dropped and counted.
        var big = NewTraceId();
        ingestion.AddTraces(Spans("svc", big, 6));
        Assert.Equal(4, stores.Traces.Get(Hex(big))!.Spans.Count);
        Assert.Equal(2, stores.Traces.Stats.DroppedSpans);
    }

    [Fact]
    public void Spans_per_resource_are_capped_by_evicting_that_resources_oldest_traces()
    {
        var (ingestion, stores) = Create(limits => { limits.MaxSpanCountPerResource = 4; });
        var other = NewTraceId();
        ingestion.AddTraces(Spans("quiet", other, 2));
        var first = NewTraceId();
        ingestion.AddTraces(Spans("noisy", first, 2));
        ingestion.AddTraces(Spans("noisy", NewTraceId(), 2));
        ingestion.AddTraces(Spans("noisy", NewTraceId(), 2));

        Assert.Null(stores.Traces.Get(Hex(first)));
        Assert.NotNull(stores.Traces.Get(Hex(other)));
        Assert.Equal(3, stores.Traces.Stats.TraceCount);
    }

    [Fact]
    public void Spans_with_invalid_ids_are_rejected_as_partial_success()
    {
        var (ingestion, stores) = Create();
        var request = Spans("svc", NewTraceId(), 2);
        request.ResourceSpans[0].ScopeSpans[0].Spans[1].TraceId = ByteString.CopyFrom(1, 2, 3);
        var response = ingestion.AddTraces(request);
        Assert.Equal(1, response.PartialSuccess.RejectedSpans);
        Assert.Equal(1, stores.Traces.Stats.SpanCount);
    }

    [Fact]
    public void Trace_queries_filter_by_resource_name_and_duration()
    {
        var (ingestion, stores) = Create();
        ingestion.AddTraces(Spans("gateway", NewTraceId(), 1, durationMs: 5, name: "GET /"));
        ingestion.AddTraces(Spans("orders", NewTraceId(), 1, durationMs: 500, name: "POST /orders"));

        Assert.Single(stores.Traces.Query(new TraceQuery(Resource: "orders")).Traces);
        Assert.Equal("gateway: GET /", Assert.Single(stores.Traces.Query(new TraceQuery(Name: "get")).Traces).Name);
        Assert.Equal("orders: POST /orders", Assert.Single(stores.Traces.Query(new TraceQuery(MinDurationMs: 100)).Traces).Name);
        Assert.Equal(2, stores.Traces.Query(new TraceQuery()).MatchCount);
    }

    [Fact]
    public void Past_the_resource_cap_the_least_recently_active_resource_goes_with_its_telemetry()
    {
        var (ingestion, stores) = Create(limits => limits.MaxResourceCount = 2);
        var traceId = NewTraceId();
        ingestion.AddLogs(Logs("a", "a1"));
        ingestion.AddTraces(Spans("b", traceId, 2));
        ingestion.AddMetrics(MetricRobustnessTests.Gauge("b", "queue.length", 1));
        ingestion.AddLogs(Logs("b", "b1"));
        ingestion.AddLogs(Logs("a", "a2"));

        // b is now the least recently active: c takes its place, and b's logs, traces and metrics go with it.
        ingestion.AddLogs(Logs("c", "c1"));

        Assert.Equal(["a", "c"], stores.Resources.All.Select(r => r.Name));
        Assert.Equal(["c1", "a2", "a1"], Messages(stores, new LogQuery()));
        Assert.Equal(3, stores.Logs.Count);
        Assert.Null(stores.Traces.Get(Hex(traceId)));
        Assert.Equal(0, stores.Traces.Stats.SpanCount);
        Assert.Empty(stores.Metrics.GetInstruments(null));

        // Telemetry from b again makes it a new resource, evicting a.
        ingestion.AddLogs(Logs("b", "b2"));
        Assert.Equal(["b", "c"], stores.Resources.All.Select(r => r.Name));
        Assert.Equal(["b2", "c1"], Messages(stores, new LogQuery()));
    }

    [Fact]
    public void A_repeated_attribute_key_keeps_its_last_value_in_the_resource_name_and_every_attribute_list()
    {
        var (ingestion, stores) = Create();
        var request = Logs("first-name", "started");
        request.ResourceLogs[0].Resource.Attributes.Add(new KeyValue { Key = "host.name", Value = new AnyValue { StringValue = "box" } });
        request.ResourceLogs[0].Resource.Attributes.Add(new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "last-name" } });
        var record = request.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        record.Attributes.Add(new KeyValue { Key = "attempt", Value = new AnyValue { IntValue = 1 } });
        record.Attributes.Add(new KeyValue { Key = "attempt", Value = new AnyValue { IntValue = 2 } });
        ingestion.AddLogs(request);

        var resource = Assert.Single(stores.Resources.All);
        Assert.Equal("last-name", resource.Name);
        Assert.Equal([new("service.name", "last-name"), new("host.name", "box")], resource.Attributes);
        Assert.Equal([new("attempt", "2")], Assert.Single(stores.Logs.Query(new LogQuery(Limit: 10)).Entries).Attributes);
    }

    [Fact]
    public void Metric_series_are_capped_per_instrument_and_pruned_with_their_last_point()
    {
        var (ingestion, stores) = Create(limits => { limits.MaxMetricSeriesPerInstrument = 2; limits.MaxMetricsCount = 3; });
        foreach (var user in new[] { "u1", "u2", "u3" })
        {
            var request = MetricRobustnessTests.Gauge("svc", "requests", 1);
            request.ResourceMetrics[0].ScopeMetrics[0].Metrics[0].Gauge.DataPoints[0].Attributes.Add(new KeyValue { Key = "user", Value = new AnyValue { StringValue = user } });
            ingestion.AddMetrics(request);
        }

        var series = Assert.Single(stores.Metrics.GetSnapshots("svc", "requests", 10)).Series;
        Assert.Equal(["u1", "u2"], series.Select(s => s.Dimensions[0].Value));

        // Points of another instrument push out all of "requests": its series and the instrument itself go.
        ingestion.AddMetrics(MetricRobustnessTests.Gauge("svc", "temperature", 1, 2, 3));
        Assert.Equal(["temperature"], stores.Metrics.GetInstruments("svc").Select(i => i.Name));
    }

    [Fact]
    public void Timestamps_past_the_signed_range_are_clamped_not_wrapped()
    {
        var (ingestion, stores) = Create();
        var lateStart = NewTraceId();
        var request = Spans("svc", lateStart, 1);
        request.ResourceSpans[0].ScopeSpans[0].Spans[0].StartTimeUnixNano = ulong.MaxValue;
        ingestion.AddTraces(request);
        var lateEnd = NewTraceId();
        request = Spans("svc", lateEnd, 1);
        request.ResourceSpans[0].ScopeSpans[0].Spans[0].EndTimeUnixNano = ulong.MaxValue;
        ingestion.AddTraces(request);

        Assert.True(Assert.Single(stores.Traces.Get(Hex(lateStart))!.Spans).Start.Year > 2200);
        Assert.True(Assert.Single(stores.Traces.Get(Hex(lateEnd))!.Spans).Duration > TimeSpan.FromDays(365));
    }

    private static List<string> Messages(Stores stores, LogQuery query) => [.. stores.Logs.Query(query).Entries.Select(e => e.Message)];

    private static ByteString NewTraceId() => ByteString.CopyFrom(Guid.NewGuid().ToByteArray());

    private static string Hex(ByteString id) => Convert.ToHexStringLower(id.Span);

    internal static ExportLogsServiceRequest Logs(string service, params string[] messages)
    {
        var scope = new ScopeLogs();
        foreach (var message in messages)
        {
            scope.LogRecords.Add(new LogRecord { SeverityNumber = SeverityNumber.Info, Body = new AnyValue { StringValue = message }, TimeUnixNano = 1 });
        }

        return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = Resource(service), ScopeLogs = { scope } } } };
    }

    internal static ExportTraceServiceRequest Spans(string service, ByteString traceId, int count, int durationMs = 1, string name = "op")
    {
        var scope = new ScopeSpans();
        const ulong start = 1_700_000_000_000_000_000;
        for (var i = 0; i < count; i++)
        {
            scope.Spans.Add(new Span
            {
                TraceId = traceId,
                SpanId = ByteString.CopyFrom(BitConverter.GetBytes((long)i + 1)),
                ParentSpanId = i == 0 ? ByteString.Empty : ByteString.CopyFrom(BitConverter.GetBytes(1L)),
                Name = name,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + ((ulong)durationMs * 1_000_000),
            });
        }

        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource(service), ScopeSpans = { scope } } } };
    }

    private static OtlpResource Resource(string service) =>
        new() { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = service } } } };

    internal sealed record Stores(LogStore Logs, TraceStore Traces, MetricStore Metrics, TelemetryResourceRegistry Resources);

    internal static (TelemetryIngestion Ingestion, Stores Stores) Create(Action<TelemetryLimitOptions>? limits = null)
    {
        var dashboard = new DashboardOptions();
        limits?.Invoke(dashboard.TelemetryLimits);
        var options = Options.Create(dashboard);
        var stores = new Stores(new LogStore(options), new TraceStore(options), new MetricStore(options), new TelemetryResourceRegistry(options, TimeProvider.System));
        var ingestion = new TelemetryIngestion(
            stores.Resources,
            stores.Logs,
            stores.Traces,
            stores.Metrics,
            new TelemetryChangeNotifier(),
            new TelemetryFileWriter(options, NullLogger<TelemetryFileWriter>.Instance),
            options);
        return (ingestion, stores);
    }
}
