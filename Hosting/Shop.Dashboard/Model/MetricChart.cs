using System.Globalization;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Model;

public sealed record ChartLine(string Label, string Color, IReadOnlyList<(DateTimeOffset Time, double Value)> Points);

public sealed record ChartModel(IReadOnlyList<ChartLine> Lines, DateTimeOffset Start, DateTimeOffset End, double Min, double Max)
{
    public bool IsEmpty => Lines.All(l => l.Points.Count == 0);
}

/// <summary>
/// Builds chart lines from an instrument's series: one line per series, or percentiles for histograms. NaN and ±Infinity
/// (which OTLP allows) cannot be plotted and are left out.
/// </summary>
public static class MetricChart
{
    private static readonly string[] Palette = ["#0f6cbd", "#c50f1f", "#107c10", "#8764b8", "#ca5010", "#038387", "#881798", "#498205", "#986f0b", "#4f6bed"];

    public const int MaxLines = 10;

    public static ChartModel Build(InstrumentKind kind, IReadOnlyList<MetricSeriesSnapshot> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var lines = kind == InstrumentKind.Histogram ? Percentiles(series) : ValueLines(series);
        var points = lines.SelectMany(l => l.Points).ToList();
        if (points.Count == 0)
        {
            return new([], DateTimeOffset.MinValue, DateTimeOffset.MinValue, 0, 0);
        }

        var min = Math.Min(0, points.Min(p => p.Value));
        var max = points.Max(p => p.Value);
        return new(lines, points.Min(p => p.Time), points.Max(p => p.Time), min, max <= min ? min + 1 : max);
    }

    public static string Label(IReadOnlyList<KeyValuePair<string, string>> dimensions) =>
        dimensions.Count == 0 ? "(no dimensions)" : string.Join(", ", dimensions.Select(d => $"{d.Key}={d.Value}"));

    /// <summary>The value at percentile <paramref name="p"/> (0..1), interpolated inside its explicit bucket.</summary>
    public static double? Percentile(double[] bounds, ulong[] counts, double p)
    {
        ulong total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        // Mismatched arrays are rejected at ingestion; checked again so a bad point can never break the page.
        if (total == 0 || counts.Length != bounds.Length + 1)
        {
            return null;
        }

        var target = p * total;
        double cumulative = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            var previous = cumulative;
            cumulative += counts[i];
            if (cumulative >= target && counts[i] > 0)
            {
                var lower = i == 0 ? Math.Min(0, bounds.Length > 0 ? bounds[0] : 0) : bounds[i - 1];
                if (i >= bounds.Length)
                {
                    return lower;
                }

                var upper = bounds[i];
                return lower + ((upper - lower) * (target - previous) / counts[i]);
            }
        }

        return bounds.Length > 0 ? bounds[^1] : null;
    }

    private static List<ChartLine> ValueLines(IReadOnlyList<MetricSeriesSnapshot> series) =>
        [.. series.Take(MaxLines).Select((s, i) => new ChartLine(Label(s.Dimensions), Palette[i % Palette.Length], [.. s.Points.Where(p => double.IsFinite(p.Value)).Select(p => (p.Time, p.Value))]))];

    private static List<ChartLine> Percentiles(IReadOnlyList<MetricSeriesSnapshot> series)
    {
        // Series are merged per timestamp (to the second) so one set of percentiles covers the filtered dimensions.
        var merged = new SortedDictionary<long, (double[] Bounds, ulong[] Counts)>();
        foreach (var point in series.SelectMany(s => s.Points))
        {
            if (point.ExplicitBounds is null || point.BucketCounts is null)
            {
                continue;
            }

            var second = point.Time.ToUnixTimeSeconds();
            if (merged.TryGetValue(second, out var existing) && existing.Counts.Length == point.BucketCounts.Length)
            {
                for (var i = 0; i < existing.Counts.Length; i++)
                {
                    existing.Counts[i] += point.BucketCounts[i];
                }
            }
            else if (!merged.ContainsKey(second))
            {
                merged[second] = (point.ExplicitBounds, [.. point.BucketCounts]);
            }
        }

        return
        [
            PercentileLine("P50", 0.50, Palette[0], merged),
            PercentileLine("P90", 0.90, Palette[1], merged),
            PercentileLine("P99", 0.99, Palette[2], merged),
        ];
    }

    private static ChartLine PercentileLine(string label, double p, string color, SortedDictionary<long, (double[] Bounds, ulong[] Counts)> merged) =>
        new(label, color, [.. merged
            .Select(m => (Time: DateTimeOffset.FromUnixTimeSeconds(m.Key), Value: Percentile(m.Value.Bounds, m.Value.Counts, p)))
            .Where(m => m.Value is { } v && double.IsFinite(v))
            .Select(m => (m.Time, m.Value!.Value))]);

    public static string Format(double value) =>
        !double.IsFinite(value) ? value.ToString(CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 1_000_000 ? (value / 1_000_000).ToString("0.##", CultureInfo.InvariantCulture) + "M"
        : Math.Abs(value) >= 10_000 ? (value / 1_000).ToString("0.##", CultureInfo.InvariantCulture) + "k"
        : value.ToString("0.###", CultureInfo.InvariantCulture);
}
