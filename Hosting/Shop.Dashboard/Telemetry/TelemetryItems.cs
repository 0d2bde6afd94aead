using Microsoft.Extensions.Logging;

namespace Shop.Dashboard.Telemetry;

/// <summary>A structured log entry; immutable once stored.</summary>
public sealed class LogEntry
{
    public long Sequence { get; internal set; }
    public required TelemetryResource Resource { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required LogLevel Level { get; init; }
    public required string SeverityText { get; init; }
    public required string Message { get; init; }
    public required string Scope { get; init; }
    public string? EventName { get; init; }
    public string? TraceId { get; init; }
    public string? SpanId { get; init; }
    public required KeyValuePair<string, string>[] Attributes { get; init; }
}

public enum SpanKind
{
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

public enum SpanStatus
{
    Unset,
    Ok,
    Error,
}

public sealed record SpanEvent(DateTimeOffset Timestamp, string Name, KeyValuePair<string, string>[] Attributes);

public sealed record SpanLink(string TraceId, string SpanId, KeyValuePair<string, string>[] Attributes);

/// <summary>One span; immutable once stored.</summary>
public sealed class SpanData
{
    public required TelemetryResource Resource { get; init; }
    public required string Scope { get; init; }
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public required string Name { get; init; }
    public required SpanKind Kind { get; init; }
    public required long StartUnixNanos { get; init; }
    public required long EndUnixNanos { get; init; }
    public required SpanStatus Status { get; init; }
    public string? StatusMessage { get; init; }
    public required KeyValuePair<string, string>[] Attributes { get; init; }
    public required SpanEvent[] Events { get; init; }
    public required SpanLink[] Links { get; init; }

    public DateTimeOffset Start => OtlpTime.FromUnixNanos(StartUnixNanos);

    public TimeSpan Duration => OtlpTime.Duration(StartUnixNanos, EndUnixNanos);
}

/// <summary>A trace as the store keeps it; mutated only under the trace store's lock.</summary>
public sealed class TraceData(string traceId)
{
    public string TraceId { get; } = traceId;

    internal List<SpanData> Spans { get; } = [];

    internal List<TelemetryResource> Resources { get; } = [];

    internal long StartUnixNanos { get; set; } = long.MaxValue;

    internal long EndUnixNanos { get; set; } = long.MinValue;

    internal int ErrorCount { get; set; }

    internal SpanData? Root { get; set; }

    internal LinkedListNode<TraceData>? Node { get; set; }

    internal bool Evicted { get; set; }
}

public enum InstrumentKind
{
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
}

/// <summary>
/// One data point. Gauges and sums carry <see cref="Value"/>; histograms also carry the count, sum and buckets
/// (<see cref="Value"/> is then the mean), from which percentiles are computed when charted.
/// </summary>
public sealed record MetricPoint(
    DateTimeOffset Time,
    double Value,
    ulong? Count = null,
    double? Sum = null,
    double[]? ExplicitBounds = null,
    ulong[]? BucketCounts = null);

internal static class OtlpTime
{
    public static DateTimeOffset FromUnixNanos(long nanos) =>
        DateTimeOffset.UnixEpoch.AddTicks(nanos / TimeSpan.NanosecondsPerTick);

    public static DateTimeOffset FromUnixNanos(ulong nanos) => FromUnixNanos(ToNanos(nanos));

    /// <summary>OTLP times are unsigned: past <see cref="long.MaxValue"/> (year 2262) they are clamped rather than wrapped to 1970.</summary>
    public static long ToNanos(ulong nanos) => nanos > long.MaxValue ? long.MaxValue : (long)nanos;

    public static TimeSpan Duration(long startNanos, long endNanos) =>
        TimeSpan.FromTicks(Math.Max(0, endNanos - startNanos) / TimeSpan.NanosecondsPerTick);
}
