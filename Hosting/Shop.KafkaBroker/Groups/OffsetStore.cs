using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Groups;

public sealed record CommittedOffset(long Offset, int LeaderEpoch, string? Metadata, long CommitTimestamp);

public readonly record struct OffsetKey(string Topic, int Partition);

/// <summary>
/// Committed offsets, kept in memory and made durable in an append-only log (<c>{data}/offsets/offsets.log</c>)
/// of CRC-checked records: commits and group deletions. The log is replayed at start (a torn tail is cut)
/// and rewritten compactly once it holds several times more records than live offsets.
/// </summary>
public sealed partial class OffsetStore : IFlushable, IDisposable
{
    private const byte CommitRecord = 1;
    private const byte DeleteGroupRecord = 2;
    private const int CompactionMinimumRecords = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<OffsetKey, CommittedOffset>> _groups = new(StringComparer.Ordinal);
    private readonly FlushScheduler _flusher;
    private readonly ILogger<OffsetStore> _logger;
    private readonly string _directory;
    private readonly string _path;
    private FileStream _file = null!;
    private int _disposed;
    private long _records;

    public OffsetStore(BrokerOptions options, FlushScheduler flusher, ILogger<OffsetStore> logger)
    {
        _flusher = flusher;
        _logger = logger;
        _directory = Path.Combine(options.DataDir, "offsets");
        Directory.CreateDirectory(_directory);
        _path = Path.Combine(_directory, "offsets.log");
    }

    public void Load()
    {
        var bytes = File.Exists(_path) ? File.ReadAllBytes(_path) : [];
        var position = 0;
        while (position + 8 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position));
            if (length <= 0 || position + 8 + length > bytes.Length)
            {
                break;
            }

            var payload = bytes.AsSpan(position + 8, length);
            if (BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(position + 4)) != Crc32C.Compute(payload))
            {
                break;
            }

            Apply(payload);
            position += 8 + length;
            _records++;
        }

        var created = !File.Exists(_path);
        _file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096);
        if (created)
        {
            // Before any commit in it is acknowledged: the file's fsyncs do not cover its name.
            DirectorySync.Flush(_directory);
        }

        if (position < bytes.Length)
        {
            LogTruncated(_logger, bytes.Length - position);
            _file.SetLength(position);
            _file.Flush(flushToDisk: true);
        }

        _file.Seek(position, SeekOrigin.Begin);
        LogLoaded(_logger, _groups.Sum(g => g.Value.Count), _groups.Count);
    }

    public IReadOnlyCollection<string> GroupIds
    {
        get
        {
            lock (_lock)
            {
                return [.. _groups.Keys];
            }
        }
    }

    public bool HasOffsets(string group)
    {
        lock (_lock)
        {
            return _groups.ContainsKey(group);
        }
    }

    public CommittedOffset? Get(string group, string topic, int partition)
    {
        lock (_lock)
        {
            return _groups.TryGetValue(group, out var offsets) ? offsets.GetValueOrDefault(new OffsetKey(topic, partition)) : null;
        }
    }

    public List<(OffsetKey Key, CommittedOffset Offset)> GetAll(string group)
    {
        lock (_lock)
        {
            return _groups.TryGetValue(group, out var offsets) ? [.. offsets.Select(o => (o.Key, o.Value))] : [];
        }
    }

    public List<(string Group, OffsetKey Key, long Offset)> Snapshot()
    {
        lock (_lock)
        {
            return [.. _groups.SelectMany(g => g.Value.Select(o => (g.Key, o.Key, o.Value.Offset)))];
        }
    }

    /// <summary>Appends the commits and returns the flush ticket to wait for before answering.</summary>
    public long Commit(string group, IReadOnlyList<(OffsetKey Key, CommittedOffset Offset)> commits)
    {
        lock (_lock)
        {
            // All encoded first: one that cannot be stored fails the call before any is applied or written.
            var payloads = commits.Select(c => EncodeCommit(group, c.Key, c.Offset)).ToList();
            foreach (var payload in payloads)
            {
                Apply(payload);
                Write(payload);
            }

            return _flusher.MarkDirty(this);
        }
    }

    public long DeleteGroup(string group)
    {
        lock (_lock)
        {
            var payload = new byte[1 + 2 + Encoding.UTF8.GetByteCount(group)];
            payload[0] = DeleteGroupRecord;
            WriteString(payload, 1, group);
            Apply(payload);
            Write(payload);
            return _flusher.MarkDirty(this);
        }
    }

    private void Write(ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, payload.Length);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], Crc32C.Compute(payload));
        _file.Write(header);
        _file.Write(payload);
        _records++;
    }

    public override string ToString() => "the offsets log";

    public void FlushToDisk()
    {
        lock (_lock)
        {
            _file.Flush(flushToDisk: false);
            var live = _groups.Sum(g => g.Value.Count);
            if (_records > CompactionMinimumRecords && _records > 4L * live)
            {
                Compact();
            }
        }

        RandomAccess.FlushToDisk(_file.SafeFileHandle);
    }

    /// <summary>Rewrites the log with one record per live offset, atomically by rename.</summary>
    private void Compact()
    {
        var temporary = _path + ".compact";
        long records = 0;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            Span<byte> header = stackalloc byte[8];
            foreach (var (group, offsets) in _groups)
            {
                foreach (var (key, offset) in offsets)
                {
                    var payload = EncodeCommit(group, key, offset);
                    BinaryPrimitives.WriteInt32BigEndian(header, payload.Length);
                    BinaryPrimitives.WriteUInt32BigEndian(header[4..], Crc32C.Compute(payload));
                    stream.Write(header);
                    stream.Write(payload);
                    records++;
                }
            }

            stream.Flush(flushToDisk: true);
        }

        _file.Dispose();
        File.Move(temporary, _path, overwrite: true);
        DirectorySync.Flush(_directory);
        _file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 4096);
        _file.Seek(0, SeekOrigin.End);
        LogCompacted(_logger, _records, records);
        _records = records;
    }

    private void Apply(ReadOnlySpan<byte> payload)
    {
        var position = 1;
        var group = ReadString(payload, ref position);
        if (payload[0] == DeleteGroupRecord)
        {
            _groups.Remove(group);
            return;
        }

        var topic = ReadString(payload, ref position);
        var partition = BinaryPrimitives.ReadInt32BigEndian(payload[position..]);
        var offset = BinaryPrimitives.ReadInt64BigEndian(payload[(position + 4)..]);
        var epoch = BinaryPrimitives.ReadInt32BigEndian(payload[(position + 12)..]);
        var timestamp = BinaryPrimitives.ReadInt64BigEndian(payload[(position + 16)..]);
        position += 24;
        var metadata = payload[position] == 1 ? null : ReadString(payload, ref position, skipFlag: true);
        if (!_groups.TryGetValue(group, out var offsets))
        {
            offsets = [];
            _groups[group] = offsets;
        }

        offsets[new OffsetKey(topic, partition)] = new CommittedOffset(offset, epoch, metadata, timestamp);
    }

    private static byte[] EncodeCommit(string group, OffsetKey key, CommittedOffset offset)
    {
        var metadataLength = offset.Metadata is null ? 0 : 2 + Encoding.UTF8.GetByteCount(offset.Metadata);
        var payload = new byte[1 + 2 + Encoding.UTF8.GetByteCount(group) + 2 + Encoding.UTF8.GetByteCount(key.Topic) + 24 + 1 + metadataLength];
        payload[0] = CommitRecord;
        var position = WriteString(payload, 1, group);
        position = WriteString(payload, position, key.Topic);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(position), key.Partition);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(position + 4), offset.Offset);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(position + 12), offset.LeaderEpoch);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(position + 16), offset.CommitTimestamp);
        position += 24;
        payload[position++] = offset.Metadata is null ? (byte)1 : (byte)0;
        if (offset.Metadata is not null)
        {
            WriteString(payload, position, offset.Metadata);
        }

        return payload;
    }

    /// <summary>A 16-bit length: a longer string is refused here rather than written as a record that cannot be read back.</summary>
    private static int WriteString(byte[] buffer, int position, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > short.MaxValue)
        {
            throw new ArgumentException($"A string of {length} UTF-8 bytes does not fit the offsets log's 16-bit length.", nameof(value));
        }

        Encoding.UTF8.GetBytes(value, buffer.AsSpan(position + 2));
        BinaryPrimitives.WriteInt16BigEndian(buffer.AsSpan(position), (short)length);
        return position + 2 + length;
    }

    private static string ReadString(ReadOnlySpan<byte> payload, ref int position, bool skipFlag = false)
    {
        if (skipFlag)
        {
            position++;
        }

        var length = BinaryPrimitives.ReadInt16BigEndian(payload[position..]);
        var value = Encoding.UTF8.GetString(payload.Slice(position + 2, length));
        position += 2 + length;
        return value;
    }

    public void Dispose()
    {
        // Disposed by the server's StopAsync and again by the service provider at shutdown.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        lock (_lock)
        {
            _file?.Flush(flushToDisk: true);
            _file?.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Offsets log: cut {Bytes} bytes of torn or corrupt tail")]
    private static partial void LogTruncated(ILogger logger, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Offsets} committed offsets of {Groups} groups")]
    private static partial void LogLoaded(ILogger logger, int offsets, int groups);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted the offsets log from {Before} to {After} records")]
    private static partial void LogCompacted(ILogger logger, long before, long after);
}
