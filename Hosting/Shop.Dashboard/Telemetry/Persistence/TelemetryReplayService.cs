using System.Buffers.Binary;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Telemetry.Persistence;

/// <summary>
/// Loads the persisted telemetry into the stores before the server starts accepting requests. A record cut short
/// by a crash ends the replay of that segment; corrupt payloads are skipped.
/// </summary>
public sealed class TelemetryReplayService(
    IOptions<DashboardOptions> options,
    TelemetryIngestion ingestion,
    ILogger<TelemetryReplayService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var path = options.Value.Persistence.Path;
        if (string.IsNullOrWhiteSpace(path))
        {
            return Task.CompletedTask;
        }

        var records = 0;
        foreach (var segment in TelemetryFileWriter.Segments(Path.GetFullPath(path)))
        {
            records += Replay(segment, cancellationToken);
        }

        logger.LogInformation("Telemetry persistence on: {Directory}, {Records} batches loaded", Path.GetFullPath(path), records);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private int Replay(string segment, CancellationToken cancellationToken)
    {
        using var stream = new FileStream(segment, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
        var header = new byte[5];
        var records = 0;
        while (!cancellationToken.IsCancellationRequested && stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(1));
            if (length < 0 || length > stream.Length - stream.Position)
            {
                logger.LogWarning("Telemetry file {Segment} ends with a partial record; the rest is ignored", segment);
                break;
            }

            var payload = new byte[length];
            stream.ReadExactly(payload);
            try
            {
                switch ((TelemetryRecordKind)header[0])
                {
                    case TelemetryRecordKind.Traces:
                        ingestion.AddTraces(ExportTraceServiceRequest.Parser.ParseFrom(payload), persist: false);
                        break;
                    case TelemetryRecordKind.Logs:
                        ingestion.AddLogs(ExportLogsServiceRequest.Parser.ParseFrom(payload), persist: false);
                        break;
                    case TelemetryRecordKind.Metrics:
                        ingestion.AddMetrics(ExportMetricsServiceRequest.Parser.ParseFrom(payload), persist: false);
                        break;
                }

                records++;
            }
            catch (InvalidProtocolBufferException ex)
            {
                logger.LogWarning(ex, "Skipped a corrupt record in {Segment}", segment);
            }
        }

        return records;
    }
}
