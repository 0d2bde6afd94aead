using System.Buffers;
using System.IO.Compression;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Otlp;

/// <summary>OTLP/HTTP with binary protobuf bodies (<c>application/x-protobuf</c>), optionally gzip-encoded.</summary>
public static class OtlpHttpApi
{
    public const string ProtobufContentType = "application/x-protobuf";

    private const int MaxBodyBytes = 64 * 1024 * 1024;

    // Content-Length is the client's word: the buffer starts at most this large and grows with what actually arrives.
    private const int MaxInitialBufferBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapOtlpHttpApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var otlp = endpoints.MapGroup("v1")
            .WithTags("OTLP")
            .DisableAntiforgery()
            .ExcludeFromDescription();

        otlp.MapPost("traces", (HttpRequest request, TelemetryIngestion ingestion, CancellationToken cancellationToken) =>
                ExportAsync(request, ExportTraceServiceRequest.Parser, (message, raw) => ingestion.AddTraces(message, raw), cancellationToken))
            .WithName("OtlpExportTraces");

        otlp.MapPost("logs", (HttpRequest request, TelemetryIngestion ingestion, CancellationToken cancellationToken) =>
                ExportAsync(request, ExportLogsServiceRequest.Parser, (message, raw) => ingestion.AddLogs(message, raw), cancellationToken))
            .WithName("OtlpExportLogs");

        otlp.MapPost("metrics", (HttpRequest request, TelemetryIngestion ingestion, CancellationToken cancellationToken) =>
                ExportAsync(request, ExportMetricsServiceRequest.Parser, (message, raw) => ingestion.AddMetrics(message, raw), cancellationToken))
            .WithName("OtlpExportMetrics");

        return endpoints;
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ExportAsync<TRequest, TResponse>(
        HttpRequest request,
        MessageParser<TRequest> parser,
        Func<TRequest, ReadOnlyMemory<byte>, TResponse> export,
        CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        if (!IsProtobuf(request.ContentType))
        {
            return TypedResults.Problem(
                $"OTLP/HTTP here accepts '{ProtobufContentType}' bodies only.", statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type");
        }

        ArraySegment<byte> body;
        try
        {
            body = await ReadBodyAsync(request, cancellationToken);
        }
        catch (InvalidDataException)
        {
            // Corrupt or, with the strict validation switched on in the project file, cut short.
            return TypedResults.Problem("The gzip body could not be decompressed.", statusCode: StatusCodes.Status400BadRequest, title: "Malformed OTLP payload");
        }
        catch (BadHttpRequestException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: ex.StatusCode, title: "Malformed OTLP payload");
        }

        TRequest message;
        try
        {
            message = parser.ParseFrom(body.Array!, body.Offset, body.Count);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Malformed OTLP payload");
        }

        var response = export(message, body);
        return TypedResults.File(response.ToByteArray(), ProtobufContentType);
    }

    private static bool IsProtobuf(string? contentType) =>
        contentType is not null && contentType.StartsWith(ProtobufContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The body in the read buffer itself (no copy); valid until the request ends.</summary>
    private static async Task<ArraySegment<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var source = string.Equals(request.Headers.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true)
            : request.Body;
        await using (source.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(request.ContentLength is > 0 ? (int)Math.Min(request.ContentLength.Value, MaxInitialBufferBytes) : 4096);
            var chunk = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                int read;
                while ((read = await source.ReadAsync(chunk, cancellationToken)) > 0)
                {
                    if (buffer.Length + read > MaxBodyBytes)
                    {
                        throw new BadHttpRequestException("The OTLP payload is too large.", StatusCodes.Status413PayloadTooLarge);
                    }

                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            return new ArraySegment<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }
}
