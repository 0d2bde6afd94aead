using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Otlp;

/// <summary>The OTLP/gRPC collector services (<c>opentelemetry.proto.collector.*.v1.*Service/Export</c>).</summary>
public sealed class OtlpGrpcTraceService(TelemetryIngestion ingestion) : TraceService.TraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context) =>
        Task.FromResult(ingestion.AddTraces(request));
}

public sealed class OtlpGrpcLogsService(TelemetryIngestion ingestion) : LogsService.LogsServiceBase
{
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(ingestion.AddLogs(request));
}

public sealed class OtlpGrpcMetricsService(TelemetryIngestion ingestion) : MetricsService.MetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(ingestion.AddMetrics(request));
}
