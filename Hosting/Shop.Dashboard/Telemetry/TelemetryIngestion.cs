using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Metrics.V1;
using Shop.Dashboard.Configuration;
using Shop.Dashboard.Telemetry.Persistence;
using OtlpSpan = OpenTelemetry.Proto.Trace.V1.Span;
using OtlpStatus = OpenTelemetry.Proto.Trace.V1.Status;

namespace Shop.Dashboard.Telemetry;

/// <summary>
/// The single way telemetry enters the dashboard (both OTLP receivers and the persistence replay): converts OTLP
/// batches into store items, appends them to the persistence file when enabled, and notifies the UI.
/// </summary>
public sealed class TelemetryIngestion(
    TelemetryResourceRegistry resources,
    LogStore logs,
    TraceStore traces,
    MetricStore metrics,
    TelemetryChangeNotifier notifier,
    TelemetryFileWriter fileWriter,
    IOptions<DashboardOptions> options)
{
    private readonly TelemetryLimitOptions _limits = options.Value.TelemetryLimits;

    public ExportTraceServiceResponse AddTraces(ExportTraceServiceRequest request, ReadOnlyMemory<byte> raw = default, bool persist = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        long rejected = 0;
        var knownResources = resources.Version;
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var resource = Resolve(resourceSpans.Resource);
            var spans = new List<SpanData>();
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                var scope = Cap(scopeSpans.Scope?.Name ?? string.Empty);
                foreach (var span in scopeSpans.Spans)
                {
                    if (span.TraceId.Length != 16 || span.SpanId.Length != 8)
                    {
                        rejected++;
                        continue;
                    }

                    spans.Add(ToSpan(resource, scope, span));
                }
            }

            traces.Add(resource, spans);
        }

        Persist(persist, TelemetryRecordKind.Traces, request, raw);
        Notify(TelemetrySignals.Traces, knownResources);
        return rejected == 0
            ? new ExportTraceServiceResponse()
            : new ExportTraceServiceResponse { PartialSuccess = new() { RejectedSpans = rejected, ErrorMessage = "Spans need a 16-byte trace id and an 8-byte span id." } };
    }

    public ExportLogsServiceResponse AddLogs(ExportLogsServiceRequest request, ReadOnlyMemory<byte> raw = default, bool persist = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        var knownResources = resources.Version;
        foreach (var resourceLogs in request.ResourceLogs)
        {
            var resource = Resolve(resourceLogs.Resource);
            var entries = new List<LogEntry>();
            foreach (var scopeLogs in resourceLogs.ScopeLogs)
            {
                var scope = Cap(scopeLogs.Scope?.Name ?? string.Empty);
                foreach (var record in scopeLogs.LogRecords)
                {
                    var time = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
                    entries.Add(new LogEntry
                    {
                        Resource = resource,
                        Timestamp = OtlpTime.FromUnixNanos(time),
                        Level = ToLevel((int)record.SeverityNumber),
                        SeverityText = Cap(record.SeverityText),
                        Message = OtlpConverter.Truncate(OtlpConverter.ToText(record.Body), Math.Max(_limits.MaxAttributeLength, 16 * 1024)),
                        Scope = scope,
                        EventName = record.EventName.Length == 0 ? null : Cap(record.EventName),
                        TraceId = record.TraceId.IsEmpty ? null : OtlpConverter.ToHex(record.TraceId),
                        SpanId = record.SpanId.IsEmpty ? null : OtlpConverter.ToHex(record.SpanId),
                        Attributes = OtlpConverter.ToAttributes(record.Attributes, _limits),
                    });
                }
            }

            logs.Add(resource, entries);
        }

        Persist(persist, TelemetryRecordKind.Logs, request, raw);
        Notify(TelemetrySignals.Logs, knownResources);
        return new ExportLogsServiceResponse();
    }

    public ExportMetricsServiceResponse AddMetrics(ExportMetricsServiceRequest request, ReadOnlyMemory<byte> raw = default, bool persist = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        var knownResources = resources.Version;
        long rejected = 0;
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var resource = Resolve(resourceMetrics.Resource);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                var scope = Cap(scopeMetrics.Scope?.Name ?? string.Empty);
                foreach (var metric in scopeMetrics.Metrics)
                {
                    if (ToPoints(metric, ref rejected) is { } converted)
                    {
                        metrics.Add(resource, scope, Cap(metric.Name), Cap(metric.Description), Cap(metric.Unit), converted.Kind, converted.Points);
                    }
                }
            }
        }

        Persist(persist, TelemetryRecordKind.Metrics, request, raw);
        Notify(TelemetrySignals.Metrics, knownResources);
        return rejected == 0
            ? new ExportMetricsServiceResponse()
            : new ExportMetricsServiceResponse { PartialSuccess = new() { RejectedDataPoints = rejected, ErrorMessage = $"Histogram points need one more bucket count than explicit bounds, and at most {_limits.MaxHistogramBucketCount} buckets." } };
    }

    /// <summary>Names, messages and other free-form strings are held to the attribute length like attribute values.</summary>
    private string Cap(string value) => OtlpConverter.Truncate(value, _limits.MaxAttributeLength);

    private void Persist(bool persist, TelemetryRecordKind kind, IMessage request, ReadOnlyMemory<byte> raw)
    {
        if (persist && fileWriter.IsEnabled)
        {
            fileWriter.Append(kind, raw.IsEmpty ? request.ToByteArray() : raw.ToArray());
        }
    }

    private void Notify(TelemetrySignals signal, long knownResources) =>
        notifier.Notify(resources.Version == knownResources ? signal : signal | TelemetrySignals.Resources);

    private TelemetryResource Resolve(OpenTelemetry.Proto.Resource.V1.Resource? otlpResource)
    {
        var resource = resources.Resolve(otlpResource, out var evicted);
        if (evicted is not null)
        {
            logs.Remove(evicted);
            traces.Remove(evicted);
            metrics.Remove(evicted);
        }

        return resource;
    }

    private SpanData ToSpan(TelemetryResource resource, string scope, OtlpSpan span) => new()
    {
        Resource = resource,
        Scope = scope,
        TraceId = OtlpConverter.ToHex(span.TraceId),
        SpanId = OtlpConverter.ToHex(span.SpanId),
        ParentSpanId = span.ParentSpanId.IsEmpty ? null : OtlpConverter.ToHex(span.ParentSpanId),
        Name = Cap(span.Name),
        Kind = span.Kind switch
        {
            OtlpSpan.Types.SpanKind.Internal => SpanKind.Internal,
            OtlpSpan.Types.SpanKind.Server => SpanKind.Server,
            OtlpSpan.Types.SpanKind.Client => SpanKind.Client,
            OtlpSpan.Types.SpanKind.Producer => SpanKind.Producer,
            OtlpSpan.Types.SpanKind.Consumer => SpanKind.Consumer,
            _ => SpanKind.Unspecified,
        },
        StartUnixNanos = OtlpTime.ToNanos(span.StartTimeUnixNano),
        EndUnixNanos = OtlpTime.ToNanos(span.EndTimeUnixNano),
        Status = span.Status?.Code switch
        {
            OtlpStatus.Types.StatusCode.Ok => SpanStatus.Ok,
            OtlpStatus.Types.StatusCode.Error => SpanStatus.Error,
            _ => SpanStatus.Unset,
        },
        StatusMessage = string.IsNullOrEmpty(span.Status?.Message) ? null : Cap(span.Status.Message),
        Attributes = OtlpConverter.ToAttributes(span.Attributes, _limits),
        Events = span.Events.Count == 0
            ? []
            : [.. span.Events.Take(_limits.MaxSpanEventCount).Select(e => new SpanEvent(OtlpTime.FromUnixNanos(e.TimeUnixNano), Cap(e.Name), OtlpConverter.ToAttributes(e.Attributes, _limits)))],
        Links = span.Links.Count == 0
            ? []
            : [.. span.Links.Take(_limits.MaxSpanLinkCount).Select(l => new SpanLink(OtlpConverter.ToHex(l.TraceId), OtlpConverter.ToHex(l.SpanId), OtlpConverter.ToAttributes(l.Attributes, _limits)))],
    };

    private (InstrumentKind Kind, List<IncomingMetricPoint> Points)? ToPoints(Metric metric, ref long rejected)
    {
        var points = new List<IncomingMetricPoint>();
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                AddNumbers(metric.Gauge.DataPoints, points);
                return (InstrumentKind.Gauge, points);
            case Metric.DataOneofCase.Sum:
                AddNumbers(metric.Sum.DataPoints, points);
                return (InstrumentKind.Sum, points);
            case Metric.DataOneofCase.Histogram:
                foreach (var point in metric.Histogram.DataPoints)
                {
                    // OTLP: bucket_counts is empty or has exactly one more element than explicit_bounds.
                    if ((point.BucketCounts.Count != 0 && point.BucketCounts.Count != point.ExplicitBounds.Count + 1)
                        || point.ExplicitBounds.Count >= _limits.MaxHistogramBucketCount)
                    {
                        rejected++;
                        continue;
                    }

                    var sum = point.HasSum ? point.Sum : (double?)null;
                    var mean = point.Count == 0 || sum is null ? 0 : sum.Value / point.Count;
                    points.Add(Incoming(point.Attributes, new MetricPoint(
                        OtlpTime.FromUnixNanos(point.TimeUnixNano), mean, point.Count, sum, [.. point.ExplicitBounds], [.. point.BucketCounts])));
                }

                return (InstrumentKind.Histogram, points);
            case Metric.DataOneofCase.ExponentialHistogram:
                foreach (var point in metric.ExponentialHistogram.DataPoints)
                {
                    var sum = point.HasSum ? point.Sum : (double?)null;
                    var mean = point.Count == 0 || sum is null ? 0 : sum.Value / point.Count;
                    points.Add(Incoming(point.Attributes, new MetricPoint(OtlpTime.FromUnixNanos(point.TimeUnixNano), mean, point.Count, sum)));
                }

                return (InstrumentKind.ExponentialHistogram, points);
            case Metric.DataOneofCase.Summary:
                foreach (var point in metric.Summary.DataPoints)
                {
                    var mean = point.Count == 0 ? 0 : point.Sum / point.Count;
                    points.Add(Incoming(point.Attributes, new MetricPoint(OtlpTime.FromUnixNanos(point.TimeUnixNano), mean, point.Count, point.Sum)));
                }

                return (InstrumentKind.Summary, points);
            default:
                return null;
        }
    }

    private void AddNumbers(Google.Protobuf.Collections.RepeatedField<NumberDataPoint> dataPoints, List<IncomingMetricPoint> points)
    {
        foreach (var point in dataPoints)
        {
            var value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
            points.Add(Incoming(point.Attributes, new MetricPoint(OtlpTime.FromUnixNanos(point.TimeUnixNano), value)));
        }
    }

    private IncomingMetricPoint Incoming(Google.Protobuf.Collections.RepeatedField<OpenTelemetry.Proto.Common.V1.KeyValue> attributes, MetricPoint point)
    {
        var dimensions = OtlpConverter.ToAttributes(attributes, _limits);
        Array.Sort(dimensions, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var key = dimensions.Length == 0 ? string.Empty : string.Join('\u001f', dimensions.Select(d => $"{d.Key}={d.Value}"));
        return new(key, dimensions, point);
    }

    private static LogLevel ToLevel(int severityNumber) => severityNumber switch
    {
        >= 21 => LogLevel.Critical,
        >= 17 => LogLevel.Error,
        >= 13 => LogLevel.Warning,
        >= 9 => LogLevel.Information,
        >= 5 => LogLevel.Debug,
        >= 1 => LogLevel.Trace,
        _ => LogLevel.Information,
    };
}
