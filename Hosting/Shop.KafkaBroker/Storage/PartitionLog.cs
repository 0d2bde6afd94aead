using System.Buffers;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;

namespace Shop.KafkaBroker.Storage;

public readonly record struct AppendResult(short Error, long BaseOffset, long LogAppendTime, long LogStartOffset, long Ticket);

/// <summary>Where a fetch reads: a byte range of one segment, which the caller must release.</summary>
public readonly record struct FetchSlice(short Error, Segment? Segment, long Position, long Available)
{
    public static readonly FetchSlice Empty = new(ErrorCode.None, null, 0, 0);
}

/// <summary>
/// One partition's log: segments in offset order, the last one active. The high watermark is the end of
/// what consumers may read: under the fsync-before-ack policy it only moves once data is on disk, so a
/// consumer never sees a record that a crash could still take back. A failed fsync cuts the log back to
/// it (see <see cref="DiscardUndurable"/>).
/// </summary>
public sealed partial class PartitionLog : IFlushable
{
    private static readonly TimeSpan ProducerExpiry = TimeSpan.FromDays(7);

    private readonly Lock _lock = new();
    private readonly FlushScheduler _flusher;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProducerStateTable _producers = new();
    private Segment[] _segments = [];
    private HighWatermarkMark _highWatermark = new(0, null, 0);
    private ReadHint? _readHint;
    private long _logEndOffset;
    private long _logStartOffset;
    private long _lastTicket;
    private long _cutBacks;
    private bool _closed;
    private volatile bool _offline;

    private sealed record HighWatermarkMark(long Offset, Segment? Segment, long Position);

    private sealed record ReadHint(long Offset, Segment Segment, long Position);

    public PartitionLog(string topic, int partition, string directory, Func<TopicConfig> config, FlushScheduler flusher, TimeProvider time, ILogger logger)
    {
        Topic = topic;
        Partition = partition;
        Directory = directory;
        Config = config;
        _flusher = flusher;
        _time = time;
        _logger = logger;
    }

    public string Topic { get; }

    public int Partition { get; }

    public string Directory { get; }

    public Func<TopicConfig> Config { get; }

    /// <summary>fsync of one segment; unit tests replace it to inject an I/O error.</summary>
    internal Action<Segment> Fsync { get; init; } = static segment => segment.Flush();

    /// <summary>fsync of the partition's directory, after files were created or deleted in it; unit tests replace it to watch it.</summary>
    internal Action<string> FsyncDirectory { get; init; } = DirectorySync.Flush;

    /// <summary>Pulsed whenever the high watermark moves.</summary>
    public AsyncSignal Changed { get; } = new();

    public long HighWatermark => Volatile.Read(ref _highWatermark).Offset;

    public long LogStartOffset => Volatile.Read(ref _logStartOffset);

    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    /// <summary>True once a failed fsync could not be repaired: produce and fetch get KAFKA_STORAGE_ERROR until a restart.</summary>
    public bool Offline => _offline;

    private static string SnapshotPath(string directory, long baseOffset) => Path.Combine(directory, $"{baseOffset:D20}.snapshot");

    /// <summary>Opens (or creates) the log, cutting a torn or corrupt tail and rebuilding producer state.</summary>
    public void Open()
    {
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var temporary in System.IO.Directory.EnumerateFiles(Directory, "*.tmp"))
        {
            File.Delete(temporary);
        }

        var bases = System.IO.Directory.EnumerateFiles(Directory, "*.log")
            .Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), out var b) ? b : -1)
            .Where(b => b >= 0)
            .Order()
            .ToList();
        if (bases.Count == 0)
        {
            _segments = [Segment.Create(Directory, 0)];
            _highWatermark = new HighWatermarkMark(0, _segments[0], 0);
            FsyncDirectory(Directory);
            return;
        }

        var snapshotBase = bases.LastOrDefault(b => File.Exists(SnapshotPath(Directory, b)), bases[0]);
        if (!_producers.TryLoadSnapshot(SnapshotPath(Directory, snapshotBase)))
        {
            snapshotBase = bases[0];
        }

        var segments = new List<Segment>(bases.Count);
        for (var i = 0; i < bases.Count; i++)
        {
            var segment = Segment.Open(Directory, bases[i]);
            var active = i == bases.Count - 1;
            var replay = bases[i] >= snapshotBase ? _producers.Replay : (Action<ReadOnlySpan<byte>>?)null;
            if (active)
            {
                var cut = segment.Recover(validate: true, RecordBatch.MaxStoredBatchBytes, header => replay?.Invoke(header));
                if (cut > 0)
                {
                    LogTruncated(_logger, Topic, Partition, cut, segment.Size);
                }
            }
            else if (replay is not null || !segment.TryLoadIndexFile())
            {
                segment.Recover(validate: false, RecordBatch.MaxStoredBatchBytes, header => replay?.Invoke(header));
            }

            segments.Add(segment);
        }

        var last = segments[^1];
        last.Flush();
        _segments = [.. segments];
        _logStartOffset = segments[0].BaseOffset;
        _logEndOffset = Math.Max(last.NextOffset, last.BaseOffset);
        _highWatermark = new HighWatermarkMark(_logEndOffset, last, last.Size);
    }

    /// <summary>Appends one validated batch (its base offset is assigned here).</summary>
    public AppendResult Append(Span<byte> batch, TopicConfig config)
    {
        var producerId = RecordBatch.ProducerId(batch);
        var appendTime = -1L;
        var publishNow = _flusher.Policy != FlushPolicy.Always;
        AppendResult result;
        lock (_lock)
        {
            if (_closed)
            {
                return new AppendResult(ErrorCode.UnknownTopicOrPartition, -1, -1, -1, 0);
            }

            if (_offline)
            {
                return new AppendResult(ErrorCode.KafkaStorageError, -1, -1, _logStartOffset, 0);
            }

            if (producerId >= 0)
            {
                var check = _producers.Check(producerId, RecordBatch.ProducerEpoch(batch), RecordBatch.BaseSequence(batch),
                    RecordBatch.LastOffsetDelta(batch), out var duplicateOffset);
                switch (check)
                {
                    case SequenceCheck.Duplicate:
                        return new AppendResult(ErrorCode.None, duplicateOffset, -1, _logStartOffset, _lastTicket);
                    case SequenceCheck.OutOfOrder:
                        return new AppendResult(ErrorCode.OutOfOrderSequenceNumber, -1, -1, _logStartOffset, 0);
                    case SequenceCheck.StaleEpoch:
                        return new AppendResult(ErrorCode.InvalidProducerEpoch, -1, -1, _logStartOffset, 0);
                    case SequenceCheck.UnknownProducer:
                        return new AppendResult(ErrorCode.UnknownProducerId, -1, -1, _logStartOffset, 0);
                }
            }

            var baseOffset = _logEndOffset;
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            RecordBatch.SetBaseOffset(batch, baseOffset);
            RecordBatch.SetPartitionLeaderEpoch(batch, 0);
            if (config.LogAppendTime)
            {
                appendTime = now;
                RecordBatch.SetLogAppendTime(batch, appendTime);
            }

            var active = _segments[^1];
            if (active.Size > 0
                && (active.Size + batch.Length > config.SegmentBytes || now - active.FirstAppendTime >= config.SegmentMs))
            {
                try
                {
                    active = Roll(active);
                }
                catch (IOException ex)
                {
                    LogRollFailed(_logger, Topic, Partition, ex.Message, ex);
                    DiscardUndurable();
                    return new AppendResult(ErrorCode.KafkaStorageError, -1, -1, _logStartOffset, 0);
                }
            }

            active.Append(batch, now);
            _logEndOffset = RecordBatch.LastOffset(batch) + 1;
            if (producerId >= 0)
            {
                _producers.Record(producerId, RecordBatch.ProducerEpoch(batch), RecordBatch.BaseSequence(batch),
                    RecordBatch.LastOffsetDelta(batch), baseOffset, RecordBatch.MaxTimestamp(batch));
            }

            _lastTicket = _flusher.MarkDirty(this);
            if (publishNow)
            {
                Volatile.Write(ref _highWatermark, new HighWatermarkMark(_logEndOffset, active, active.Size));
            }

            result = new AppendResult(ErrorCode.None, baseOffset, appendTime, _logStartOffset, _lastTicket);
        }

        if (publishNow)
        {
            Changed.Pulse();
        }

        return result;
    }

    private Segment Roll(Segment active)
    {
        Fsync(active);
        active.WriteIndexFile();
        _producers.ExpireOlderThan((_time.GetUtcNow() - ProducerExpiry).ToUnixTimeMilliseconds());
        _producers.WriteSnapshot(SnapshotPath(Directory, _logEndOffset));
        var next = Segment.Create(Directory, _logEndOffset);
        try
        {
            // The segment's fsyncs cover its data, not its name: without this a power loss could take back the
            // whole file and the acknowledged batches in it (and the index and snapshot renamed above).
            FsyncDirectory(Directory);
        }
        catch (IOException)
        {
            next.Discard();
            throw;
        }

        Volatile.Write(ref _segments, [.. _segments, next]);
        return next;
    }

    public void FlushToDisk()
    {
        HighWatermarkMark mark;
        long cutBacks;
        lock (_lock)
        {
            if (_closed || _offline)
            {
                return;
            }

            var active = _segments[^1];
            mark = new HighWatermarkMark(_logEndOffset, active, active.Size);
            cutBacks = _cutBacks;
        }

        try
        {
            Fsync(mark.Segment!);
        }
        catch (IOException)
        {
            lock (_lock)
            {
                // A deleted topic's log has nothing left to cut.
                if (!_closed)
                {
                    DiscardUndurable();
                }
            }

            Changed.Pulse();
            throw;
        }

        if (_flusher.Policy == FlushPolicy.Always)
        {
            lock (_lock)
            {
                // A failed roll may have cut the log back meanwhile, dropping what this mark covers.
                if (mark.Offset > _highWatermark.Offset && cutBacks == _cutBacks)
                {
                    Volatile.Write(ref _highWatermark, mark);
                }
            }

            Changed.Pulse();
        }
    }

    /// <summary>
    /// After a failed fsync the kernel may already have dropped the dirty pages, and a later fsync can succeed
    /// without them (PostgreSQL's "fsyncgate"), so nothing written since the last good fsync can be trusted.
    /// Under fsync-before-ack that point is the high watermark: the log is cut back to it, every append after
    /// it fails (even one a later round would cover), and the producer state is rebuilt from the files, so a
    /// retried batch is appended again instead of being answered as a duplicate. Under the interval policy
    /// consumers may have read past it, so the partition goes offline instead, as it does when the cut fails
    /// too; start-up recovery then rebuilds it from what is on disk. Called under the lock.
    /// </summary>
    private void DiscardUndurable()
    {
        _cutBacks++;
        Volatile.Write(ref _readHint, null);
        try
        {
            if (_flusher.Policy == FlushPolicy.Always)
            {
                CutBackToHighWatermark();
            }
            else
            {
                GoOffline("the records since the last fsync may already have been read");
            }
        }
        finally
        {
            // Last, so whoever learns that these appends failed finds the log already cut back or offline.
            _flusher.Discard(_lastTicket);

            // What is left is durable: a duplicate of it must not wait on a discarded ticket.
            _lastTicket = 0;
        }
    }

    private void CutBackToHighWatermark()
    {
        var durable = _highWatermark;
        var dropped = _logEndOffset - durable.Offset;
        try
        {
            var keep = Array.IndexOf(_segments, durable.Segment);
            var later = _segments[(keep + 1)..];
            Volatile.Write(ref _segments, _segments[..(keep + 1)]);
            foreach (var segment in later)
            {
                segment.Discard();
                File.Delete(SnapshotPath(Directory, segment.BaseOffset));
            }

            durable.Segment!.Truncate(durable.Position);
            Fsync(durable.Segment);

            // Deleted segments that came back after a power loss would hold offsets the log hands out again.
            FsyncDirectory(Directory);
            RebuildProducerState();
            Volatile.Write(ref _logEndOffset, durable.Offset);
            LogCutBack(_logger, Topic, Partition, durable.Offset, dropped);
        }
        catch (IOException ex)
        {
            GoOffline(ex.Message);
        }
    }

    /// <summary>As at start-up: the newest snapshot plus the batch headers after it, which also reindexes the cut segment.</summary>
    private void RebuildProducerState()
    {
        var snapshotBase = _segments.LastOrDefault(s => File.Exists(SnapshotPath(Directory, s.BaseOffset)), _segments[0]).BaseOffset;
        if (!_producers.TryLoadSnapshot(SnapshotPath(Directory, snapshotBase)))
        {
            snapshotBase = _segments[0].BaseOffset;
        }

        foreach (var segment in _segments.Where(s => s.BaseOffset >= snapshotBase))
        {
            segment.Recover(validate: false, RecordBatch.MaxStoredBatchBytes, _producers.Replay);
        }
    }

    private void GoOffline(string reason)
    {
        _offline = true;
        LogOffline(_logger, Topic, Partition, reason);
    }

    /// <summary>Finds the bytes to serve from <paramref name="fetchOffset"/> up to the high watermark.</summary>
    public FetchSlice Locate(long fetchOffset)
    {
        if (Offline)
        {
            return new FetchSlice(ErrorCode.KafkaStorageError, null, 0, 0);
        }

        var highWatermark = Volatile.Read(ref _highWatermark);
        if (fetchOffset < LogStartOffset || fetchOffset > highWatermark.Offset)
        {
            return new FetchSlice(ErrorCode.OffsetOutOfRange, null, 0, 0);
        }

        if (fetchOffset == highWatermark.Offset)
        {
            return FetchSlice.Empty;
        }

        var segments = Volatile.Read(ref _segments);
        var hint = Volatile.Read(ref _readHint);
        var index = FindSegment(segments, fetchOffset);
        while (index < segments.Length)
        {
            var segment = segments[index];
            var limit = ReferenceEquals(segment, highWatermark.Segment) ? highWatermark.Position : segment.Size;
            var position = hint is not null && hint.Offset == fetchOffset && ReferenceEquals(hint.Segment, segment)
                ? hint.Position
                : segment.FindPosition(fetchOffset, limit);
            if (position < limit)
            {
                return segment.TryAcquire()
                    ? new FetchSlice(ErrorCode.None, segment, position, limit - position)
                    : new FetchSlice(ErrorCode.OffsetOutOfRange, null, 0, 0);
            }

            if (ReferenceEquals(segment, highWatermark.Segment))
            {
                break;
            }

            index++;
        }

        return FetchSlice.Empty;
    }

    /// <summary>Remembers where the next sequential fetch will start, sparing it an index lookup.</summary>
    public void SetReadHint(long nextOffset, Segment segment, long position) =>
        Volatile.Write(ref _readHint, new ReadHint(nextOffset, segment, position));

    private static int FindSegment(Segment[] segments, long offset)
    {
        int low = 0, high = segments.Length - 1, found = 0;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (segments[mid].BaseOffset <= offset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found;
    }

    /// <summary>ListOffsets by time: the first offset whose record timestamp is at least <paramref name="timestamp"/>.</summary>
    public (long Offset, long Timestamp) OffsetForTimestamp(long timestamp)
    {
        var highWatermark = Volatile.Read(ref _highWatermark);
        foreach (var segment in Volatile.Read(ref _segments))
        {
            if (segment.MaxTimestamp < timestamp || !segment.TryAcquire())
            {
                continue;
            }

            try
            {
                var limit = ReferenceEquals(segment, highWatermark.Segment) ? highWatermark.Position : segment.Size;
                var position = segment.FindPositionByTimestamp(timestamp, limit, out var batchBase);
                if (position >= 0)
                {
                    return FindRecordByTimestamp(segment, position, timestamp) ?? (batchBase, timestamp);
                }
            }
            finally
            {
                segment.Release();
            }
        }

        return (-1, -1);
    }

    /// <summary>
    /// Walks the records of an uncompressed batch to find the exact record; compressed batches are never
    /// decompressed, so for them the batch's base offset is the answer (a consumer may then see a few
    /// earlier records of that batch).
    /// </summary>
    private static (long Offset, long Timestamp)? FindRecordByTimestamp(Segment segment, long position, long timestamp)
    {
        Span<byte> header = stackalloc byte[RecordBatch.HeaderSize];
        segment.Read(header, position);
        if ((RecordBatch.Attributes(header) & RecordBatch.CompressionMask) != 0 || (RecordBatch.Attributes(header) & RecordBatch.TimestampTypeFlag) != 0)
        {
            return null;
        }

        var size = RecordBatch.TotalSize(header);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var batch = buffer.AsSpan(0, segment.Read(buffer.AsSpan(0, size), position));
            var baseOffset = RecordBatch.BaseOffset(batch);
            var baseTimestamp = RecordBatch.BaseTimestamp(batch);
            var reader = new RecordReader(batch[RecordBatch.HeaderSize..]);
            for (var i = 0; i < RecordBatch.RecordsCount(batch) && reader.TryReadRecord(out var timestampDelta, out var offsetDelta); i++)
            {
                if (baseTimestamp + timestampDelta >= timestamp)
                {
                    return (baseOffset + offsetDelta, baseTimestamp + timestampDelta);
                }
            }

            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Deletes whole sealed segments past the topic's time or size limit.</summary>
    public int ApplyRetention(TopicConfig config, long now)
    {
        var deleted = 0;
        lock (_lock)
        {
            while (_segments.Length > 1)
            {
                var first = _segments[0];
                if (ReferenceEquals(first, _highWatermark.Segment))
                {
                    break;
                }

                var total = _segments.Sum(s => s.Size);
                var overSize = config.RetentionBytes >= 0 && total - first.Size >= config.RetentionBytes;
                var overTime = config.RetentionMs >= 0 && first.MaxTimestamp >= 0 && now - first.MaxTimestamp > config.RetentionMs;
                if (!overSize && !overTime)
                {
                    break;
                }

                Volatile.Write(ref _segments, _segments[1..]);
                Volatile.Write(ref _logStartOffset, _segments[0].BaseOffset);
                first.Delete();
                File.Delete(SnapshotPath(Directory, first.BaseOffset));
                deleted++;
            }

            if (deleted > 0)
            {
                SyncDeletions();
            }
        }

        return deleted;
    }

    /// <summary>
    /// A deletion that a power loss undoes brings back old records below the log start, which costs nothing
    /// acknowledged: retention goes on, and it deletes them again.
    /// </summary>
    private void SyncDeletions()
    {
        try
        {
            FsyncDirectory(Directory);
        }
        catch (IOException ex)
        {
            LogDeletionsNotSynced(_logger, Topic, Partition, ex.Message, ex);
        }
    }

    public void Close()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _segments[^1].Flush();
            foreach (var segment in _segments)
            {
                segment.Close();
            }
        }

        Changed.Pulse();
    }

    public override string ToString() => $"{Topic}-{Partition}";

    [LoggerMessage(Level = LogLevel.Error, Message = "Rolling the segment of {Topic}-{Partition} failed: {Reason}")]
    private static partial void LogRollFailed(ILogger logger, string topic, int partition, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cut {Topic}-{Partition} back to offset {Offset}, its last fsynced one, after a failed fsync: {Records} unacknowledged records dropped")]
    private static partial void LogCutBack(ILogger logger, string topic, int partition, long offset, long records);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Topic}-{Partition} is offline until the broker restarts, after a failed fsync: {Reason}")]
    private static partial void LogOffline(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention's deletions in {Topic}-{Partition} were not synced to disk, so a power loss may bring old segments back: {Reason}")]
    private static partial void LogDeletionsNotSynced(ILogger logger, string topic, int partition, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovered {Topic}-{Partition}: cut {Bytes} bytes of torn or corrupt data after position {Position}")]
    private static partial void LogTruncated(ILogger logger, string topic, int partition, long bytes, long position);
}
