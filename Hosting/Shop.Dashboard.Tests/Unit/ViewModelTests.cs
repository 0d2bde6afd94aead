using Shop.Dashboard.Model;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Tests.Unit;

public sealed class ViewModelTests
{
    [Fact]
    public void Ansi_colours_become_css_classes_and_text_is_encoded()
    {
        var (plain, html) = AnsiParser.Parse("\u001b[32minfo\u001b[39m: <ok> \u001b[1;31mfail\u001b[0m done");
        Assert.Equal("info: <ok> fail done", plain);
        Assert.Equal("<span class=\"ansi-fg-2\">info</span>: &lt;ok&gt; <span class=\"ansi-fg-1 ansi-bold\">fail</span> done", html);
    }

    [Fact]
    public void Ansi_extended_colours_and_other_sequences_are_handled()
    {
        var (plain, html) = AnsiParser.Parse("\u001b[2K\u001b[38;2;10;20;30mrgb\u001b[0m \u001b[48;5;1mbg\u001b[0m");
        Assert.Equal("rgb bg", plain);
        Assert.Equal("<span style=\"color:rgb(10,20,30)\">rgb</span> <span class=\"ansi-bg-1\">bg</span>", html);
    }

    [Theory]
    [InlineData("\u001b[32mok\u001b[0m 10/20 \u001b[1;3", " 10/20 [1;3")]
    [InlineData("\u001b[32mok\u001b[0m \u001b[1;34 → 50% 完了", " [1;34 → 50% 完了")]
    public void An_escape_that_starts_no_complete_sequence_is_dropped_alone_and_the_rest_of_the_line_is_shown(string line, string rest)
    {
        var (plain, html) = AnsiParser.Parse(line);
        Assert.Equal("ok" + rest, plain);
        Assert.Equal("<span class=\"ansi-fg-2\">ok</span>" + rest, html);
    }

    [Fact]
    public void Histogram_percentiles_interpolate_inside_buckets()
    {
        double[] bounds = [10, 20, 50];
        ulong[] counts = [0, 10, 10, 0];
        Assert.Equal(20, MetricChart.Percentile(bounds, counts, 0.5));
        Assert.Equal(47, MetricChart.Percentile(bounds, counts, 0.95)!.Value, 3);
        Assert.Null(MetricChart.Percentile(bounds, [0, 0, 0, 0], 0.5));
    }

    [Fact]
    public void Waterfall_orders_children_under_parents_and_scales_to_the_trace()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create();
        var traceId = Google.Protobuf.ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        var request = TelemetryStoreTests.Spans("svc", traceId, 3, durationMs: 100);
        var spans = request.ResourceSpans[0].ScopeSpans[0].Spans;
        spans[1].StartTimeUnixNano += 50_000_000;
        spans[1].EndTimeUnixNano = spans[1].StartTimeUnixNano + 25_000_000;
        ingestion.AddTraces(request);

        var rows = TraceWaterfall.Build(stores.Traces.Get(Convert.ToHexStringLower(traceId.Span))!.Spans);
        Assert.Equal([0, 1, 1], rows.Select(r => r.Depth));
        Assert.Null(rows[0].Span.ParentSpanId);
        Assert.Equal(100, rows[0].WidthPercent, 3);
        var late = rows.Single(r => r.Span.SpanId == spans[1].SpanId.ToByteArray().Aggregate("", (s, b) => s + b.ToString("x2")));
        Assert.Equal(50, late.OffsetPercent, 3);
        Assert.Equal(25, late.WidthPercent, 3);
    }

    [Fact]
    public void Waterfall_shows_spans_in_a_parent_cycle()
    {
        var (ingestion, stores) = TelemetryStoreTests.Create();
        var traceId = Google.Protobuf.ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        var request = TelemetryStoreTests.Spans("svc", traceId, 3);
        var spans = request.ResourceSpans[0].ScopeSpans[0].Spans;
        spans[0].ParentSpanId = spans[1].SpanId; // A→B→A
        spans[1].ParentSpanId = spans[0].SpanId;
        spans[2].ParentSpanId = spans[2].SpanId; // its own parent
        ingestion.AddTraces(request);

        var rows = TraceWaterfall.Build(stores.Traces.Get(Convert.ToHexStringLower(traceId.Span))!.Spans);
        Assert.Equal(3, rows.Select(r => r.Span.SpanId).Distinct().Count());
    }
}
