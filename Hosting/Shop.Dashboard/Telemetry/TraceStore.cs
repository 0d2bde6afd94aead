using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Telemetry;

public sealed record TraceQuery(string? Resource = null, string? Name = null, double? MinDurationMs = null, int Offset = 0, int Limit = 100);

/// <param name="Resources">Ids of the resources that produced spans in the trace.</param>
public sealed record TraceSummary(
    string TraceId,
    string Name,
    DateTimeOffset Start,
    TimeSpan Duration,
    int SpanCount,
    int ErrorCount,
    IReadOnlyList<string> Resources);

/// <param name="MatchCount">Traces that match the query (before paging).</param>
/// <param name="TotalCount">Traces stored.</param>
public sealed record TraceListResult(IReadOnlyList<TraceSummary> Traces, int MatchCount, int TotalCount);

public sealed record TraceDetail(TraceSummary Summary, IReadOnlyList<SpanData> Spans);

public sealed record TraceStoreStats(int TraceCount, int SpanCount, long DroppedSpans, long EvictedTraces);

/// <summary>
/// Traces keyed by trace id, in arrival order. Caps: traces in total, spans in total, spans per resource (the
/// resource's oldest traces go first) and spans per trace (later spans are dropped and counted).
/// </summary>
public sealed class TraceStore(IOptions<DashboardOptions> options)
{
    private readonly Lock _lock = new();
    private readonly TelemetryLimitOptions _limits = options.Value.TelemetryLimits;
    private readonly Dictionary<string, TraceData> _traces = new(StringComparer.Ordinal);
    private readonly LinkedList<TraceData> _order = new();
    private readonly Dictionary<TelemetryResource, ResourceSpans> _byResource = [];
    private int _spanCount;
    private long _droppedSpans;
    private long _evictedTraces;

    public TraceStoreStats Stats
    {
        get
        {
            lock (_lock)
            {
                return new(_traces.Count, _spanCount, _droppedSpans, _evictedTraces);
            }
        }
    }

    public int SpanCountFor(TelemetryResource resource)
    {
        lock (_lock)
        {
            return _byResource.TryGetValue(resource, out var spans) ? spans.SpanCount : 0;
        }
    }

    internal void Add(TelemetryResource resource, List<SpanData> spans)
    {
        lock (_lock)
        {
            if (resource.Removed)
            {
                return;
            }

            if (!_byResource.TryGetValue(resource, out var resourceSpans))
            {
                resourceSpans = new ResourceSpans();
                _byResource[resource] = resourceSpans;
            }

            foreach (var span in spans)
            {
                AddSpan(resource, resourceSpans, span);
            }

            while (_spanCount > _limits.MaxSpanCount && _order.First is { } oldest)
            {
                Evict(oldest.Value);
            }

            while (resourceSpans.SpanCount > _limits.MaxSpanCountPerResource && resourceSpans.Traces.Count > 0)
            {
                var trace = resourceSpans.Traces.Dequeue();
                if (!trace.Evicted)
                {
                    Evict(trace);
                }
            }

            // Evicted traces linger in per-resource queues until reached; compact when they dominate.
            if (resourceSpans.Traces.Count > 2 * Math.Max(64, _traces.Count))
            {
                resourceSpans.Traces = new Queue<TraceData>(resourceSpans.Traces.Where(t => !t.Evicted));
            }
        }
    }

    /// <summary>Evicts every trace the resource contributed to, then the resource itself.</summary>
    internal void Remove(TelemetryResource resource)
    {
        lock (_lock)
        {
            if (_byResource.TryGetValue(resource, out var resourceSpans))
            {
                foreach (var trace in resourceSpans.Traces)
                {
                    if (!trace.Evicted)
                    {
                        Evict(trace);
                    }
                }

                _byResource.Remove(resource);
            }
        }
    }

    public TraceListResult Query(TraceQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var minDurationNanos = query.MinDurationMs is { } ms ? (long)(ms * 1_000_000) : 0;
        lock (_lock)
        {
            var matches = new List<TraceData>();
            for (var node = _order.Last; node is not null; node = node.Previous)
            {
                var trace = node.Value;
                if (IsMatch(trace, query, minDurationNanos))
                {
                    matches.Add(trace);
                }
            }

            matches.Sort(static (a, b) => b.StartUnixNanos.CompareTo(a.StartUnixNanos));
            var page = matches.Skip(Math.Max(0, query.Offset)).Take(Math.Max(0, query.Limit)).Select(Summarize).ToList();
            return new(page, matches.Count, _traces.Count);
        }
    }

    public TraceDetail? Get(string traceId)
    {
        lock (_lock)
        {
            if (!_traces.TryGetValue(traceId.ToLowerInvariant(), out var trace))
            {
                return null;
            }

            var spans = trace.Spans.ToList();
            spans.Sort(static (a, b) => a.StartUnixNanos.CompareTo(b.StartUnixNanos));
            return new(Summarize(trace), spans);
        }
    }

    private void AddSpan(TelemetryResource resource, ResourceSpans resourceSpans, SpanData span)
    {
        if (!_traces.TryGetValue(span.TraceId, out var trace))
        {
            trace = new TraceData(span.TraceId);
            _traces[span.TraceId] = trace;
            trace.Node = _order.AddLast(trace);
            while (_traces.Count > Math.Max(1, _limits.MaxTraceCount) && _order.First is { } oldest && oldest.Value != trace)
            {
                Evict(oldest.Value);
            }
        }

        if (trace.Spans.Count >= Math.Max(1, _limits.MaxSpansPerTrace))
        {
            _droppedSpans++;
            return;
        }

        trace.Spans.Add(span);
        _spanCount++;
        resourceSpans.SpanCount++;
        if (!trace.Resources.Contains(resource))
        {
            trace.Resources.Add(resource);
            resourceSpans.Traces.Enqueue(trace);
        }

        trace.StartUnixNanos = Math.Min(trace.StartUnixNanos, span.StartUnixNanos);
        trace.EndUnixNanos = Math.Max(trace.EndUnixNanos, span.EndUnixNanos);
        if (span.Status == SpanStatus.Error)
        {
            trace.ErrorCount++;
        }

        if (string.IsNullOrEmpty(span.ParentSpanId) && (trace.Root is null || span.StartUnixNanos < trace.Root.StartUnixNanos))
        {
            trace.Root = span;
        }
    }

    private void Evict(TraceData trace)
    {
        trace.Evicted = true;
        _traces.Remove(trace.TraceId);
        if (trace.Node is not null)
        {
            _order.Remove(trace.Node);
            trace.Node = null;
        }

        foreach (var span in trace.Spans)
        {
            _byResource[span.Resource].SpanCount--;
        }

        _spanCount -= trace.Spans.Count;
        _evictedTraces++;

        // Other resources' queues may still reference the trace until they reach it; its spans can go now.
        trace.Spans.Clear();
        trace.Spans.TrimExcess();
    }

    private static bool IsMatch(TraceData trace, TraceQuery query, long minDurationNanos)
    {
        if (minDurationNanos > 0 && trace.EndUnixNanos - trace.StartUnixNanos < minDurationNanos)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.Resource) && !trace.Resources.Exists(r => r.Matches(query.Resource)))
        {
            return false;
        }

        return string.IsNullOrEmpty(query.Name) || trace.Spans.Exists(s => s.Name.Contains(query.Name, StringComparison.OrdinalIgnoreCase));
    }

    private static TraceSummary Summarize(TraceData trace)
    {
        var first = trace.Root ?? trace.Spans.MinBy(s => s.StartUnixNanos)!;
        return new(
            trace.TraceId,
            $"{first.Resource.Name}: {first.Name}",
            OtlpTime.FromUnixNanos(trace.StartUnixNanos),
            OtlpTime.Duration(trace.StartUnixNanos, trace.EndUnixNanos),
            trace.Spans.Count,
            trace.ErrorCount,
            [.. trace.Resources.Select(r => r.Id)]);
    }

    private sealed class ResourceSpans
    {
        public int SpanCount { get; set; }

        /// <summary>Traces this resource contributed to, oldest first (evicted ones are skipped when reached).</summary>
        public Queue<TraceData> Traces { get; set; } = new();
    }
}
