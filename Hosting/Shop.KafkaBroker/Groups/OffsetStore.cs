using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Groups;

public sealed record CommittedOffset(long Offset, int LeaderEpoch, string? Metadata, long CommitTimestamp);

public readonly record struct OffsetKey(string Topic, int Partition);

/// <summary>
/// Committed offsets, kept in memory and made durable in an append-only log (<c>{data}/offsets/offsets.log</c>)
/// of CRC-checked records: commits and group deletions. The log is replayed at start (a torn tail is cut)
/// and rewritten compactly once it holds several times more records than live offsets. A failed fsync rolls
/// the log and the offsets in memory back to the last good one (see <see cref="RollBack"/>).
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
    private long _durableLength;
    private long _lastTicket;
    private bool _directoryUnsynced;
    private volatile bool _unavailable;

    public OffsetStore(BrokerOptions options, FlushScheduler flusher, ILogger<OffsetStore> logger)
    {
        _flusher = flusher;
        _logger = logger;
        _directory = Path.Combine(options.DataDir, "offsets");
        Directory.CreateDirectory(_directory);
        _path = Path.Combine(_directory, "offsets.log");
    }

    /// <summary>fsync of the offsets log; unit tests replace it to inject an I/O error.</summary>
    internal Action<SafeFileHandle> Fsync { get; init; } = RandomAccess.FlushToDisk;

    /// <summary>False once a failed fsync could not be rolled back: commits and offset fetches fail until a restart.</summary>
    public bool Available => !_unavailable;

    public void Load()
    {
        var created = !File.Exists(_path);
        var bytes = created ? [] : File.ReadAllBytes(_path);
        var position = Replay(bytes);
        _file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096);

        // The file's fsyncs do not cover its name: the directory is synced before a commit in it is acknowledged.
        _directoryUnsynced = created;
        if (position < bytes.Length)
        {
            LogTruncated(_logger, bytes.Length - position);
            _file.SetLength(position);
        }

        // What a killed process left may still be only in the page cache; from here on it counts as durable.
        Fsync(_file.SafeFileHandle);
        _durableLength = position;
        _file.Seek(position, SeekOrigin.Begin);
        LogLoaded(_logger, _groups.Sum(g => g.Value.Count), _groups.Count);
    }

    /// <summary>Applies the log's records up to the first torn or corrupt one; returns where that one starts.</summary>
    private int Replay(ReadOnlySpan<byte> bytes)
    {
        var position = 0;
        while (position + 8 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes[position..]);
            if (length <= 0 || position + 8 + length > bytes.Length)
            {
                break;
            }

            var payload = bytes.Slice(position + 8, length);
            if (BinaryPrimitives.ReadUInt32BigEndian(bytes[(position + 4)..]) != Crc32C.Compute(payload))
            {
                break;
            }

            Apply(payload);
            position += 8 + length;
            _records++;
        }

        return position;
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

    /// <summary>
    /// Appends the commits and returns the flush ticket to wait for before answering; throws
    /// <see cref="IOException"/> when the store is unavailable.
    /// </summary>
    public long Commit(string group, IReadOnlyList<(OffsetKey Key, CommittedOffset Offset)> commits)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();

            // All encoded first: one that cannot be stored fails the call before any is applied or written.
            var payloads = commits.Select(c => EncodeCommit(group, c.Key, c.Offset)).ToList();
            foreach (var payload in payloads)
            {
                Apply(payload);
                Write(payload);
            }

            _lastTicket = _flusher.MarkDirty(this);
            return _lastTicket;
        }
    }

    public long DeleteGroup(string group)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            var payload = new byte[1 + 2 + Encoding.UTF8.GetByteCount(group)];
            payload[0] = DeleteGroupRecord;
            WriteString(payload, 1, group);
            Apply(payload);
            Write(payload);
            _lastTicket = _flusher.MarkDirty(this);
            return _lastTicket;
        }
    }

    private void ThrowIfUnavailable()
    {
        if (_unavailable)
        {
            throw new IOException("The offsets log is unavailable after a failed fsync; a restart recovers it.");
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
        long length;
        try
        {
            SafeFileHandle handle;
            bool syncDirectory;
            lock (_lock)
            {
                if (_unavailable)
                {
                    return;
                }

                _file.Flush(flushToDisk: false);
                handle = _file.SafeFileHandle;
                length = _file.Position;
                syncDirectory = _directoryUnsynced;
            }

            Fsync(handle);
            if (syncDirectory)
            {
                DirectorySync.Flush(_directory);
                _directoryUnsynced = false;
            }
        }
        catch (IOException)
        {
            lock (_lock)
            {
                RollBack();
            }

            throw;
        }

        lock (_lock)
        {
            _durableLength = length;

            // Only while nothing was committed since the fsync: the rewritten log then holds exactly what is durable.
            if (_file.Position == length && _records > CompactionMinimumRecords && _records > 4L * _groups.Sum(g => g.Value.Count))
            {
                Compact();
            }
        }
    }

    /// <summary>
    /// After a failed fsync the kernel may already have dropped the written pages, and a later fsync can succeed
    /// without them (PostgreSQL's "fsyncgate"), so nothing written since the last good fsync can be trusted. The
    /// log is cut back to that point and the offsets are reloaded from it: OffsetFetch never shows a commit a
    /// crash could take back, and every commit since fails (also one made during the failed fsync), so its
    /// client retries it. If the cut fails too, the store is unavailable until a restart. Called under the lock.
    /// </summary>
    private void RollBack()
    {
        try
        {
            var durable = new byte[_durableLength];
            if (RandomAccess.Read(_file.SafeFileHandle, durable, 0) != durable.Length)
            {
                throw new IOException("The offsets log is shorter than its last fsynced length.");
            }

            _file.SetLength(_durableLength);
            Fsync(_file.SafeFileHandle);
            _file.Seek(_durableLength, SeekOrigin.Begin);
            _groups.Clear();
            _records = 0;
            Replay(durable);
            LogRolledBack(_logger, _durableLength);
        }
        catch (IOException ex)
        {
            _unavailable = true;
            LogUnavailable(_logger, ex.Message, ex);
        }
        finally
        {
            // Last, so whoever learns that these commits failed finds them gone already.
            _flusher.Discard(_lastTicket);
        }
    }

    /// <summary>Rewrites the log with one record per live offset, atomically by rename. Called under the lock.</summary>
    private void Compact()
    {
        var temporary = _path + ".compact";
        long records = 0;
        try
        {
            using var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write);
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
        catch (IOException ex)
        {
            // The log stays as it is, whole and durable; a later round tries again.
            LogCompactionFailed(_logger, ex.Message, ex);
            return;
        }

        _file.Dispose();
        try
        {
            File.Move(temporary, _path, overwrite: true);

            // Both files hold what is durable; the directory is synced before a commit in the new one is acknowledged.
            _directoryUnsynced = true;
            LogCompacted(_logger, _records, records);
            _records = records;
        }
        catch (IOException ex)
        {
            LogCompactionFailed(_logger, ex.Message, ex);
        }
        finally
        {
            _file = new FileStream(_path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 4096);
            _durableLength = _file.Seek(0, SeekOrigin.End);
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Offsets log: rolled back to its last fsynced {Bytes} bytes after a failed fsync; the commits since failed")]
    private static partial void LogRolledBack(ILogger logger, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Offsets log: unavailable until the broker restarts, after a failed fsync: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Offsets log: compaction failed, the log stays as it is: {Reason}")]
    private static partial void LogCompactionFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted the offsets log from {Before} to {After} records")]
    private static partial void LogCompacted(ILogger logger, long before, long after);
}
