using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Gateway.Tests;

/// <summary>The metrics pipeline every Shop process gets from AddServiceDefaults.</summary>
public sealed class ServiceDefaultsMetricsTests : IDisposable
{
    private readonly string _meterName = $"Shop.Tests.{Guid.NewGuid():N}";
    private readonly CollectingExporter _exporter;
    private readonly IHost _host;
    private readonly MeterProvider _provider;
    private readonly Meter _meter;

    public ServiceDefaultsMetricsTests()
    {
        _exporter = new CollectingExporter(_meterName);
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(_meterName)
            .AddReader(new BaseExportingMetricReader(_exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative }));
        _host = builder.Build();
        _provider = _host.Services.GetRequiredService<MeterProvider>();
        _meter = new Meter(_meterName);
    }

    [Fact]
    public void A_stream_keeps_at_most_the_cardinality_limit_and_counts_the_rest_as_overflow()
    {
        var requests = _meter.CreateCounter<long>("shop.test.requests");
        const int distinctRoutes = Microsoft.Extensions.Hosting.Extensions.MetricStreamCardinalityLimit + 100;
        for (var i = 0; i < distinctRoutes; i++)
        {
            requests.Add(1, new KeyValuePair<string, object?>("route", $"/items/{i}"));
        }

        Assert.True(_provider.ForceFlush());

        var points = _exporter.Points("shop.test.requests");
        var overflow = Assert.Single(points, point => point.Tags.ContainsKey("otel.metric.overflow"));
        var kept = points.Count - 1;
        Assert.InRange(kept, 1, Microsoft.Extensions.Hosting.Extensions.MetricStreamCardinalityLimit);
        // Nothing is lost past the limit: it is summed under the overflow attribute.
        Assert.Equal(distinctRoutes, points.Sum(point => point.Sum));
        Assert.Equal(distinctRoutes - kept, overflow.Sum);
    }

    [Fact]
    public void The_limit_leaves_an_instrument_s_advised_histogram_buckets_in_place()
    {
        var delay = _meter.CreateHistogram("shop.test.delay", "s", description: null, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1] });
        delay.Record(0.05);

        Assert.True(_provider.ForceFlush());

        var point = Assert.Single(_exporter.Points("shop.test.delay"));
        Assert.Equal([0.01, 0.1, 1, double.PositiveInfinity], point.BucketBounds);
    }

    public void Dispose()
    {
        _meter.Dispose();
        _host.Dispose();
    }

    private sealed record ExportedPoint(IReadOnlyDictionary<string, object?> Tags, double Sum, double[] BucketBounds);

    /// <summary>Copies what each export of one meter carries: the SDK reuses its metric objects between exports.</summary>
    private sealed class CollectingExporter(string meterName) : BaseExporter<Metric>
    {
        private readonly Dictionary<string, List<ExportedPoint>> _latest = new(StringComparer.Ordinal);

        public List<ExportedPoint> Points(string metricName)
        {
            lock (_latest)
            {
                return _latest.TryGetValue(metricName, out var points) ? points : [];
            }
        }

        public override ExportResult Export(in Batch<Metric> batch)
        {
            lock (_latest)
            {
                foreach (var metric in batch)
                {
                    if (metric.MeterName != meterName)
                    {
                        continue;
                    }

                    var points = new List<ExportedPoint>();
                    foreach (ref readonly var point in metric.GetMetricPoints())
                    {
                        var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
                        foreach (var tag in point.Tags)
                        {
                            tags[tag.Key] = tag.Value;
                        }

                        var isHistogram = metric.MetricType == MetricType.Histogram;
                        var sum = isHistogram ? point.GetHistogramSum() : point.GetSumLong();
                        var bounds = new List<double>();
                        if (isHistogram)
                        {
                            foreach (var bucket in point.GetHistogramBuckets())
                            {
                                bounds.Add(bucket.ExplicitBound);
                            }
                        }

                        points.Add(new ExportedPoint(tags, sum, [.. bounds]));
                    }

                    _latest[metric.Name] = points;
                }
            }

            return ExportResult.Success;
        }
    }
}
