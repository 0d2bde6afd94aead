using System.Buffers.Binary;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Telemetry.Persistence;

public enum TelemetryRecordKind : byte
{
    Traces = 1,
    Logs = 2,
    Metrics = 3,
}

/// <summary>
/// Appends raw OTLP batches to segment files (<c>telemetry-000001.otlp</c>, …) in the persistence directory.
/// Each record is a kind byte, a little-endian length and the protobuf payload. The oldest segment is deleted when the
/// files outgrow <see cref="PersistenceOptions.MaxSizeBytes"/>, which keeps the directory compact: the in-memory caps
/// drop older telemetry at replay anyway. Writes happen off the ingestion path; if the disk falls behind, batches are
/// dropped from the file (never from memory) with a warning.
/// </summary>
public sealed class TelemetryFileWriter(IOptions<DashboardOptions> options, ILogger<TelemetryFileWriter> logger) : BackgroundService
{
    internal const string SegmentPattern = "telemetry-*.otlp";

    private readonly PersistenceOptions _options = options.Value.Persistence;
    private readonly Channel<(TelemetryRecordKind Kind, byte[] Payload)> _pending =
        Channel.CreateBounded<(TelemetryRecordKind, byte[])>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private int _dropWarned;

    public bool IsEnabled => !string.IsNullOrWhiteSpace(_options.Path);

    public void Append(TelemetryRecordKind kind, byte[] payload)
    {
        if (!_pending.Writer.TryWrite((kind, payload)) && Interlocked.Exchange(ref _dropWarned, 1) == 0)
        {
            logger.LogWarning("The telemetry file cannot keep up; some batches are kept in memory only");
        }
    }

    internal static string[] Segments(string directory) =>
        Directory.Exists(directory) ? [.. Directory.GetFiles(directory, SegmentPattern).Order(StringComparer.Ordinal)] : [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!IsEnabled)
        {
            return;
        }

        var directory = Path.GetFullPath(_options.Path!);
        Directory.CreateDirectory(directory);
        FileStream? segment = null;
        var header = new byte[5];
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                while (_pending.Reader.TryRead(out var record))
                {
                    if (segment is null || segment.Length >= _options.SegmentSizeBytes)
                    {
                        if (segment is not null)
                        {
                            await segment.DisposeAsync();
                        }

                        segment = OpenNextSegment(directory);
                        DeleteOldSegments(directory);
                    }

                    header[0] = (byte)record.Kind;
                    BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(1), record.Payload.Length);
                    await segment.WriteAsync(header, stoppingToken);
                    await segment.WriteAsync(record.Payload, stoppingToken);
                }

                await segment!.FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "Telemetry persistence stopped: cannot write to {Directory}", directory);
        }
        finally
        {
            if (segment is not null)
            {
                await segment.DisposeAsync();
            }
        }
    }

    private static FileStream OpenNextSegment(string directory)
    {
        var last = Segments(directory).LastOrDefault();
        var next = last is null ? 1 : int.Parse(Path.GetFileNameWithoutExtension(last)["telemetry-".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1;
        return new FileStream(Path.Combine(directory, $"telemetry-{next:D6}.otlp"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024);
    }

    private void DeleteOldSegments(string directory)
    {
        var segments = Segments(directory).Select(path => new FileInfo(path)).ToList();
        var total = segments.Sum(s => s.Length);
        foreach (var segment in segments.Take(segments.Count - 1))
        {
            if (total <= _options.MaxSizeBytes)
            {
                break;
            }

            total -= segment.Length;
            segment.Delete();
        }
    }
}
