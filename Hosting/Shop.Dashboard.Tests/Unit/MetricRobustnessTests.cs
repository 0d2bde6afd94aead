using System.Text.Json;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using Shop.Dashboard.Apis;
using Shop.Dashboard.Model;
using Shop.Dashboard.Telemetry;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Shop.Dashboard.Tests.Unit;

/// <summary>Metric points that are valid protobuf but odd values must not break the API or the chart.</summary>
public sealed class MetricRobustnessTests
{
    [Fact]
    public void Non_finite_gauge_values_are_written_as_null_and_left_out_of_the_chart()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create();
        ingestion.AddMetrics(Gauge("svc", "temperature", 1, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 2));

        var snapshot = Assert.Single(stores.Metrics.GetSnapshots("svc", "temperature", 100));
        var json = JsonSerializer.Serialize(snapshot.ToDto(), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var dto = JsonSerializer.Deserialize<MetricInstrumentDto>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        double?[] values = [.. Assert.Single(dto.Series).Points.Select(p => p.Value)];
        Assert.Equal([1, null, null, null, 2], values);

        var chart = MetricChart.Build(InstrumentKind.Gauge, snapshot.Series);
        Assert.Equal(new[] { 1.0, 2.0 }, Assert.Single(chart.Lines).Points.Select(p => p.Value));
        Assert.Equal(0, chart.Min);
        Assert.Equal(2, chart.Max);
        Assert.Equal("NaN", MetricChart.Format(double.NaN));
        Assert.Equal("-Infinity", MetricChart.Format(double.NegativeInfinity));
    }

    [Fact]
    public void Histogram_points_whose_bucket_counts_do_not_match_the_bounds_are_rejected()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create();
        var histogram = new Histogram();
        histogram.DataPoints.Add(new HistogramDataPoint { Count = 3, BucketCounts = { 1, 1, 1 }, TimeUnixNano = 1_700_000_000_000_000_000 });
        histogram.DataPoints.Add(new HistogramDataPoint { Count = 2, ExplicitBounds = { 10 }, BucketCounts = { 1, 1 }, TimeUnixNano = 1_700_000_001_000_000_000 });
        var response = ingestion.AddMetrics(Request("svc", new Metric { Name = "latency", Histogram = histogram }));

        Assert.Equal(1, response.PartialSuccess.RejectedDataPoints);
        var series = Assert.Single(Assert.Single(stores.Metrics.GetSnapshots("svc", "latency", 100)).Series);
        Assert.Equal([10.0], Assert.Single(series.Points).ExplicitBounds!);

        // The chart never indexes past the bounds, whatever a point holds.
        Assert.Null(MetricChart.Percentile([], [1, 1, 1], 0.5));
        Assert.Null(MetricChart.Percentile([10], [1, 1, 1], 0.99));
    }

    internal static ExportMetricsServiceRequest Gauge(string service, string name, params double[] values)
    {
        var gauge = new Gauge();
        for (var i = 0; i < values.Length; i++)
        {
            gauge.DataPoints.Add(new NumberDataPoint { AsDouble = values[i], TimeUnixNano = 1_700_000_000_000_000_000 + ((ulong)i * 1_000_000_000) });
        }

        return Request(service, new Metric { Name = name, Gauge = gauge });
    }

    internal static ExportMetricsServiceRequest Request(string service, Metric metric) => new()
    {
        ResourceMetrics =
        {
            new ResourceMetrics
            {
                Resource = new OtlpResource { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = service } } } },
                ScopeMetrics = { new ScopeMetrics { Metrics = { metric } } },
            },
        },
    };
}
