using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Shop.Dashboard.Tests.Infrastructure;

namespace Shop.Dashboard.Tests;

public sealed class PersistenceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("shop-dashboard-persistence-").FullName;

    [Fact]
    public async Task Telemetry_survives_a_restart_when_persistence_is_on()
    {
        using var timeout = Poll.Timeout(90);
        var settings = new Dictionary<string, string> { ["Dashboard__Persistence__Path"] = _directory };
        var request = OtlpReceiverTests.Request("persisted-service", spans: 3);
        var traceId = Convert.ToHexStringLower(request.ResourceSpans[0].ScopeSpans[0].Spans[0].TraceId.Span);

        await using (var first = await DashboardProcess.StartAsync(settings, secured: false, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(first.OtlpGrpcUrl);
            await new TraceService.TraceServiceClient(channel).ExportAsync(request, cancellationToken: timeout.Token);
            await Poll.UntilAsync(() => Task.FromResult(Directory.GetFiles(_directory, "telemetry-*.otlp").Any(f => new FileInfo(f).Length > 0) ? "written" : null), "the segment file", timeout.Token);
            await first.StopGracefullyAsync(timeout.Token);
        }

        await using var second = await DashboardProcess.StartAsync(settings, secured: false, cancellationToken: timeout.Token);
        using var api = second.CreateApiClient(authenticated: false);
        var trace = await api.TraceAsync(traceId, timeout.Token);
        Assert.Equal(3, trace!.Spans.Count);
        Assert.Equal("persisted-service", trace.Spans[0].Resource);
        Assert.Contains("1 batches loaded", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_persistence_a_restart_starts_empty()
    {
        using var timeout = Poll.Timeout(90);
        var request = OtlpReceiverTests.Request("volatile-service");
        await using (var first = await DashboardProcess.StartAsync(secured: false, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(first.OtlpGrpcUrl);
            await new TraceService.TraceServiceClient(channel).ExportAsync(request, cancellationToken: timeout.Token);
        }

        await using var second = await DashboardProcess.StartAsync(secured: false, cancellationToken: timeout.Token);
        using var api = second.CreateApiClient(authenticated: false);
        Assert.Equal(0, (await api.TracesAsync("", timeout.Token))!.TotalStored);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
