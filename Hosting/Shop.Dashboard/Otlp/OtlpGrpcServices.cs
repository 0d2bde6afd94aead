using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Otlp;

/// <summary>
/// The OTLP/gRPC collector services (<c>opentelemetry.proto.collector.*.v1.*Service/Export</c>). They are bound by
/// hand rather than through generated base classes so that a payload that is not valid protobuf is answered with
/// <see cref="StatusCode.InvalidArgument"/> (the generated marshaller's failure surfaces as <c>Unknown</c>).
/// </summary>
public sealed class OtlpGrpcTraceService(TelemetryIngestion ingestion) : OtlpGrpcTraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context) =>
        Task.FromResult(ingestion.AddTraces(request));
}

/// <summary>gRPC binds handlers to a virtual method declared on the type that carries the binding attribute.</summary>
[BindServiceMethod(typeof(OtlpGrpcTraceServiceBase), nameof(BindService))]
public abstract class OtlpGrpcTraceServiceBase
{
    private static readonly Method<ExportTraceServiceRequest, ExportTraceServiceResponse> ExportMethod =
        OtlpGrpcMethod.Export(TraceService.Descriptor.FullName, ExportTraceServiceRequest.Parser, ExportTraceServiceResponse.Parser);

    public abstract Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context);

    public static void BindService(ServiceBinderBase binder, OtlpGrpcTraceServiceBase? service) =>
        binder.AddMethod(ExportMethod, (UnaryServerMethod<ExportTraceServiceRequest, ExportTraceServiceResponse>?)null);
}

public sealed class OtlpGrpcLogsService(TelemetryIngestion ingestion) : OtlpGrpcLogsServiceBase
{
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(ingestion.AddLogs(request));
}

/// <summary>gRPC binds handlers to a virtual method declared on the type that carries the binding attribute.</summary>
[BindServiceMethod(typeof(OtlpGrpcLogsServiceBase), nameof(BindService))]
public abstract class OtlpGrpcLogsServiceBase
{
    private static readonly Method<ExportLogsServiceRequest, ExportLogsServiceResponse> ExportMethod =
        OtlpGrpcMethod.Export(LogsService.Descriptor.FullName, ExportLogsServiceRequest.Parser, ExportLogsServiceResponse.Parser);

    public abstract Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context);

    public static void BindService(ServiceBinderBase binder, OtlpGrpcLogsServiceBase? service) =>
        binder.AddMethod(ExportMethod, (UnaryServerMethod<ExportLogsServiceRequest, ExportLogsServiceResponse>?)null);
}

public sealed class OtlpGrpcMetricsService(TelemetryIngestion ingestion) : OtlpGrpcMetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        Task.FromResult(ingestion.AddMetrics(request));
}

/// <summary>gRPC binds handlers to a virtual method declared on the type that carries the binding attribute.</summary>
[BindServiceMethod(typeof(OtlpGrpcMetricsServiceBase), nameof(BindService))]
public abstract class OtlpGrpcMetricsServiceBase
{
    private static readonly Method<ExportMetricsServiceRequest, ExportMetricsServiceResponse> ExportMethod =
        OtlpGrpcMethod.Export(MetricsService.Descriptor.FullName, ExportMetricsServiceRequest.Parser, ExportMetricsServiceResponse.Parser);

    public abstract Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context);

    public static void BindService(ServiceBinderBase binder, OtlpGrpcMetricsServiceBase? service) =>
        binder.AddMethod(ExportMethod, (UnaryServerMethod<ExportMetricsServiceRequest, ExportMetricsServiceResponse>?)null);
}

internal static class OtlpGrpcMethod
{
    public static Method<TRequest, TResponse> Export<TRequest, TResponse>(string serviceName, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, serviceName, "Export", Marshaller(requestParser), Marshaller(responseParser));

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser)
        where T : class, IMessage<T> =>
        Marshallers.Create<T>(
            (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context =>
            {
                try
                {
                    return parser.ParseFrom(context.PayloadAsReadOnlySequence());
                }
                catch (InvalidProtocolBufferException ex)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"Malformed OTLP payload: {ex.Message}"));
                }
            });
}
