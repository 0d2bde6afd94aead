namespace Shop.Dashboard.Configuration;

/// <summary>The <c>Dashboard</c> configuration section.</summary>
public sealed class DashboardOptions
{
    public FrontendOptions Frontend { get; set; } = new();

    public OtlpOptions Otlp { get; set; } = new();

    public TelemetryLimitOptions TelemetryLimits { get; set; } = new();

    public PersistenceOptions Persistence { get; set; } = new();

    /// <summary>Base URL of the AppHost's resource service (<c>Dashboard__ResourceServiceUrl</c>); unset when standalone.</summary>
    public string? ResourceServiceUrl { get; set; }

    /// <summary>Key sent in <c>x-resource-service-api-key</c> (<c>Dashboard__ResourceServiceApiKey</c>).</summary>
    public string? ResourceServiceApiKey { get; set; }

    /// <summary>When set, the dashboard stops as soon as this process (the AppHost that started it) exits.</summary>
    public int? ParentProcessId { get; set; }
}

public enum FrontendAuthMode
{
    BrowserToken,
    Unsecured,
}

public sealed class FrontendOptions
{
    public FrontendAuthMode AuthMode { get; set; } = FrontendAuthMode.BrowserToken;

    /// <summary>The sign-in token; generated at start when <see cref="FrontendAuthMode.BrowserToken"/> is on and none is given.</summary>
    public string? BrowserToken { get; set; }
}

public enum OtlpAuthMode
{
    Unsecured,
    ApiKey,
}

public sealed class OtlpOptions
{
    public OtlpAuthMode AuthMode { get; set; } = OtlpAuthMode.Unsecured;

    public string? PrimaryApiKey { get; set; }

    /// <summary>Accepted as well as the primary key, so keys can be rotated without downtime.</summary>
    public string? SecondaryApiKey { get; set; }

    /// <summary>
    /// OTLP exports, gRPC and HTTP together, processed at once (each may buffer up to 64 MiB); further ones get gRPC
    /// Unavailable or HTTP 429 with Retry-After, which OTLP exporters retry.
    /// </summary>
    public int MaxConcurrentExports { get; set; } = 8;
}

/// <summary>Caps that keep memory bounded however much telemetry arrives; the oldest data is evicted first.</summary>
public sealed class TelemetryLimitOptions
{
    /// <summary>Resources (service instances) kept; a new one past it evicts the least recently active with its telemetry.</summary>
    public int MaxResourceCount { get; set; } = 500;

    /// <summary>Series kept per metric instrument; points of further dimension combinations are dropped.</summary>
    public int MaxMetricSeriesPerInstrument { get; set; } = 1_000;

    /// <summary>Structured log entries kept in total (Aspire's name).</summary>
    public int MaxLogCount { get; set; } = 10_000;

    public int MaxLogCountPerResource { get; set; } = 5_000;

    /// <summary>Traces kept in total (Aspire's name).</summary>
    public int MaxTraceCount { get; set; } = 10_000;

    /// <summary>Spans kept in total, across all traces.</summary>
    public int MaxSpanCount { get; set; } = 100_000;

    /// <summary>Spans kept per resource; past it the resource's oldest traces are evicted.</summary>
    public int MaxSpanCountPerResource { get; set; } = 50_000;

    /// <summary>Spans kept in one trace; later spans of an oversized trace are dropped and counted.</summary>
    public int MaxSpansPerTrace { get; set; } = 5_000;

    /// <summary>Metric data points kept in total (Aspire's name).</summary>
    public int MaxMetricsCount { get; set; } = 100_000;

    public int MaxMetricsCountPerResource { get; set; } = 50_000;

    /// <summary>Attributes kept per item (Aspire's name).</summary>
    public int MaxAttributeCount { get; set; } = 128;

    /// <summary>Longer attribute values are truncated (Aspire's name).</summary>
    public int MaxAttributeLength { get; set; } = 4_096;

    /// <summary>Events kept per span (Aspire's name).</summary>
    public int MaxSpanEventCount { get; set; } = 256;

    /// <summary>Links kept per span.</summary>
    public int MaxSpanLinkCount { get; set; } = 128;

    /// <summary>Histogram points with more buckets are rejected (truncating buckets would falsify percentiles).</summary>
    public int MaxHistogramBucketCount { get; set; } = 1_024;
}

/// <summary>
/// Optional persistence: raw OTLP batches are appended to segment files in <see cref="Path"/> and replayed at start,
/// so telemetry survives a restart. Off while <see cref="Path"/> is empty.
/// </summary>
public sealed class PersistenceOptions
{
    public string? Path { get; set; }

    /// <summary>Upper bound for the files on disk; the oldest segment is deleted past it.</summary>
    public long MaxSizeBytes { get; set; } = 256L * 1024 * 1024;

    public long SegmentSizeBytes { get; set; } = 16L * 1024 * 1024;
}
