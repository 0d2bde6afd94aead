using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Trace.V1;
using Shop.Dashboard.Telemetry;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Shop.Dashboard.Tests.Unit;

/// <summary>Every free-form string and repeated field a client controls is held to the telemetry limits.</summary>
public sealed class StringLimitTests
{
    private const int Length = 8;
    private static readonly string Long = new('x', 10_000);

    [Fact]
    public void Span_names_messages_keys_ids_and_links_are_capped()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create(limits => { limits.MaxAttributeLength = Length; limits.MaxSpanLinkCount = 2; });
        var traceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        var span = new Span
        {
            TraceId = traceId,
            SpanId = ByteString.CopyFrom(BitConverter.GetBytes(1L)),
            Name = Long,
            Status = new Status { Code = Status.Types.StatusCode.Error, Message = Long },
            Attributes = { new KeyValue { Key = Long, Value = new AnyValue { StringValue = "v" } } },
            Events = { new Span.Types.Event { Name = Long } },
        };
        for (var i = 0; i < 5; i++)
        {
            span.Links.Add(new Span.Types.Link { TraceId = ByteString.CopyFrom(new byte[1_000]), SpanId = ByteString.CopyFrom(new byte[8]) });
        }

        ingestion.AddTraces(new ExportTraceServiceRequest
        {
            ResourceSpans =
            {
                new ResourceSpans
                {
                    Resource = new OtlpResource { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = Long } } } },
                    ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = Long }, Spans = { span } } },
                },
            },
        });

        var stored = Assert.Single(stores.Traces.Get(Convert.ToHexStringLower(traceId.Span))!.Spans);
        Assert.Equal(Length, stored.Name.Length);
        Assert.Equal(Length, stored.StatusMessage!.Length);
        Assert.Equal(Length, stored.Scope.Length);
        Assert.Equal(Length, Assert.Single(stored.Attributes).Key.Length);
        Assert.Equal(Length, Assert.Single(stored.Events).Name.Length);
        Assert.Equal(Length, stored.Resource.Name.Length);
        Assert.Equal(2, stored.Links.Length);
        Assert.Equal(32, stored.Links[0].TraceId.Length);
    }

    [Fact]
    public void Log_event_names_severity_texts_and_ids_are_capped()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create(limits => limits.MaxAttributeLength = Length);
        var request = TelemetryStoreTests.Logs("svc", "message");
        var record = request.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        record.EventName = Long;
        record.SeverityText = Long;
        record.TraceId = ByteString.CopyFrom(new byte[1_000]);
        ingestion.AddLogs(request);

        var entry = Assert.Single(stores.Logs.Query(new LogQuery(Limit: 10)).Entries);
        Assert.Equal(Length, entry.EventName!.Length);
        Assert.Equal(Length, entry.SeverityText.Length);
        Assert.Equal(32, entry.TraceId!.Length);
    }

    [Fact]
    public void Metric_names_descriptions_units_and_bucket_arrays_are_capped()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create(limits => { limits.MaxAttributeLength = Length; limits.MaxHistogramBucketCount = 4; });
        var histogram = new Histogram();
        histogram.DataPoints.Add(new HistogramDataPoint { ExplicitBounds = { 1, 2, 3, 4 }, BucketCounts = { 1, 1, 1, 1, 1 }, Count = 5 });
        histogram.DataPoints.Add(new HistogramDataPoint { ExplicitBounds = { 1, 2, 3 }, BucketCounts = { 1, 1, 1, 1 }, Count = 4 });
        var response = ingestion.AddMetrics(MetricRobustnessTests.Request("svc", new Metric { Name = Long, Description = Long, Unit = Long, Histogram = histogram }));

        Assert.Equal(1, response.PartialSuccess.RejectedDataPoints);
        var instrument = Assert.Single(stores.Metrics.GetSnapshots("svc", null, 10));
        Assert.Equal(Length, instrument.Instrument.Name.Length);
        Assert.Equal(Length, instrument.Instrument.Description.Length);
        Assert.Equal(Length, instrument.Instrument.Unit.Length);
        Assert.Equal(4, Assert.Single(Assert.Single(instrument.Series).Points).BucketCounts!.Length);
    }
}
