using System.Collections.Concurrent;
using System.Diagnostics;
using LedgerService;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Shop.EventBus.Tests;

[Collection(BusCollection.Name)]
public sealed class TracingTests(InfrastructureFixture infrastructure, ITestOutputHelper output)
{
    private const string RequestsSourceName = "Shop.EventBus.Tests.Requests";
    private static readonly ActivitySource Requests = new(RequestsSourceName);

    [Fact]
    public async Task The_trace_of_the_request_that_saved_an_event_continues_through_Kafka_into_its_handler()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is EventBusTelemetry.Name or RequestsSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup);

        Activity request;
        OrderPlacedIntegrationEvent placed;
        using (request = Requests.StartActivity("POST /orders", ActivityKind.Server)!)
        {
            placed = (await ledger.PlaceOrdersAsync(count: 1)).Single();
        }

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 1, "the event is handled");
        // The send span ends when the relay has the acknowledgement, which may be after the consumer is done.
        await Eventually.HoldsAsync(
            () => stopped.Any(a => a.Kind == ActivityKind.Consumer && a.TraceId == request.TraceId)
                && stopped.Any(a => a.Kind == ActivityKind.Producer && a.TraceId == request.TraceId),
            "the send and process spans have ended");

        var send = Assert.Single(stopped, a => a.Kind == ActivityKind.Producer && a.TraceId == request.TraceId);
        Assert.Equal(EventBusTelemetry.Name, send.Source.Name);
        Assert.Equal($"send {setup.Topic}", send.DisplayName);
        Assert.Equal(request.SpanId, send.ParentSpanId);
        Assert.Equal(placed.Id.ToString(), send.GetTagItem("messaging.message.id"));

        var handled = ledger.Probe.Activities[placed.Id];
        Assert.NotNull(handled);
        Assert.Equal(EventBusTelemetry.Name, handled.Source.Name);
        Assert.Equal(ActivityKind.Consumer, handled.Kind);
        Assert.Equal($"process {setup.Topic}", handled.DisplayName);
        Assert.Equal(request.TraceId, handled.TraceId);
        Assert.Equal(send.SpanId, handled.ParentSpanId);
        Assert.Equal(setup.GroupId, handled.GetTagItem("messaging.consumer.group.name"));
        Assert.Equal("processed", handled.GetTagItem("shop.eventbus.outcome"));

        var message = KafkaTopic.ReadAll(setup.Kafka, setup.Topic).Single();
        Assert.Equal(send.Id, message.Header(EventBusHeaders.TraceParent));
    }

    [Fact]
    public async Task The_bus_spans_and_metrics_reach_the_apps_OpenTelemetry_pipeline()
    {
        var spans = new ConcurrentQueue<Activity>();
        var metrics = new ConcurrentQueue<string>();
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        // What AddServiceDefaults sets up, with exporters that keep what they get instead of sending it.
        await using var ledger = await LedgerHost.StartAsync(setup, configureServices: services => services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddProcessor(new Capture<Activity>(spans.Enqueue)))
            .WithMetrics(meters => meters.AddReader(new PeriodicExportingMetricReader(new MetricNames(metrics), exportIntervalMilliseconds: 60_000))));

        await ledger.PlaceOrdersAsync(count: 1);
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 1, "the event is handled");
        await Eventually.HoldsAsync(
            () => spans.Any(s => s.DisplayName == $"process {setup.Topic}") && spans.Any(s => s.DisplayName == $"send {setup.Topic}"),
            "the send and process spans are exported");
        ledger.Services.GetRequiredService<MeterProvider>().ForceFlush();

        Assert.Contains(spans, s => s.DisplayName == $"send {setup.Topic}" && s.Kind == ActivityKind.Producer);
        Assert.Contains("shop.eventbus.messages.published", metrics);
        Assert.Contains("shop.eventbus.messages.consumed", metrics);
        Assert.Contains("shop.eventbus.outbox.backlog", metrics);
    }

    private sealed class Capture<T>(Action<T> onEnd) : BaseProcessor<T>
    {
        public override void OnEnd(T data) => onEnd(data);
    }

    private sealed class MetricNames(ConcurrentQueue<string> names) : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                names.Enqueue(metric.Name);
            }

            return ExportResult.Success;
        }
    }
}
