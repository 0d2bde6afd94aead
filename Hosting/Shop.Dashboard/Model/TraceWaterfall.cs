using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Model;

/// <param name="OffsetPercent">Where the span starts, as a share of the trace's duration.</param>
/// <param name="WidthPercent">The span's duration as a share of the trace's duration (at least a sliver, so it shows).</param>
public sealed record WaterfallRow(SpanData Span, int Depth, double OffsetPercent, double WidthPercent);

public static class TraceWaterfall
{
    /// <summary>
    /// Spans in tree order (each parent followed by its children by start time); orphans become roots, and so does the
    /// earliest unreached span of a parent cycle.
    /// </summary>
    public static IReadOnlyList<WaterfallRow> Build(IReadOnlyList<SpanData> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        if (spans.Count == 0)
        {
            return [];
        }

        var start = spans.Min(s => s.StartUnixNanos);
        var end = spans.Max(s => s.EndUnixNanos);
        var total = Math.Max(1, end - start);
        var ids = spans.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        var children = spans
            .Where(s => s.ParentSpanId is not null && ids.Contains(s.ParentSpanId))
            .GroupBy(s => s.ParentSpanId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.StartUnixNanos).ToList(), StringComparer.Ordinal);
        var roots = spans.Where(s => s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)).OrderBy(s => s.StartUnixNanos);

        var rows = new List<WaterfallRow>(spans.Count);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(SpanData Span, int Depth)>(roots.Reverse().Select(s => (s, 0)));
        Walk(stack, children, visited, rows, start, total);

        // Spans in a parent cycle (A→B→A, or their own parent) have no root above them: each unreached one starts
        // its own tree, so no span received goes unshown.
        foreach (var span in spans.OrderBy(s => s.StartUnixNanos))
        {
            if (!visited.Contains(span.SpanId))
            {
                stack.Push((span, 0));
                Walk(stack, children, visited, rows, start, total);
            }
        }

        return rows;
    }

    private static void Walk(
        Stack<(SpanData Span, int Depth)> stack,
        Dictionary<string, List<SpanData>> children,
        HashSet<string> visited,
        List<WaterfallRow> rows,
        long start,
        long total)
    {
        while (stack.Count > 0)
        {
            var (span, depth) = stack.Pop();
            if (!visited.Add(span.SpanId))
            {
                continue;
            }

            var offset = 100.0 * (span.StartUnixNanos - start) / total;
            var width = Math.Max(0.3, 100.0 * Math.Max(0, span.EndUnixNanos - span.StartUnixNanos) / total);
            rows.Add(new WaterfallRow(span, depth, offset, Math.Min(width, 100 - offset)));
            if (children.TryGetValue(span.SpanId, out var kids))
            {
                for (var i = kids.Count - 1; i >= 0; i--)
                {
                    stack.Push((kids[i], depth + 1));
                }
            }
        }
    }
}
