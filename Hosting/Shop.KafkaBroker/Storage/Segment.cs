using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Shop.KafkaBroker.Storage;

/// <summary>
/// One log segment: a file of record batches exactly as received (base offsets assigned) plus a sparse
/// in-memory index of (offset, position) pairs, one every <see cref="IndexIntervalBytes"/>. Sealed segments
/// keep their index in a side file so a restart need not rescan them. Appends happen under the owning
/// partition's lock; reads are positional and lock-free. A reference count keeps the file open while a
/// fetch reads it even if retention deletes the segment meanwhile.
/// </summary>
public sealed class Segment
{
    public const int IndexIntervalBytes = 4096;
    private const int IndexFileMagic = 0x4B494458;
    private const int ScanBufferSize = 1 << 20;

    private readonly SafeFileHandle _handle;
    private long[] _index = new long[64];
    private int _indexCount;
    private long _lastIndexedPosition = -IndexIntervalBytes;
    private int _references = 1;

    private Segment(string directory, long baseOffset, SafeFileHandle handle)
    {
        BaseOffset = baseOffset;
        LogPath = LogFilePath(directory, baseOffset);
        IndexPath = Path.ChangeExtension(LogPath, ".index");
        _handle = handle;
        NextOffset = baseOffset;
        MaxTimestamp = -1;
    }

    public long BaseOffset { get; }

    public string LogPath { get; }

    public string IndexPath { get; }

    /// <summary>Bytes in the file; only the partition lock holder changes it.</summary>
    public long Size { get; private set; }

    /// <summary>The offset after the last batch in this segment.</summary>
    public long NextOffset { get; private set; }

    public long MaxTimestamp { get; private set; }

    /// <summary>Broker time of the first append since the segment was created or opened (segment.ms counts from it).</summary>
    public long FirstAppendTime { get; private set; } = -1;

    public static string LogFilePath(string directory, long baseOffset) => Path.Combine(directory, $"{baseOffset:D20}.log");

    public static Segment Create(string directory, long baseOffset)
    {
        var handle = File.OpenHandle(LogFilePath(directory, baseOffset), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        return new Segment(directory, baseOffset, handle);
    }

    public static Segment Open(string directory, long baseOffset)
    {
        var handle = File.OpenHandle(LogFilePath(directory, baseOffset), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        return new Segment(directory, baseOffset, handle) { Size = RandomAccess.GetLength(handle) };
    }

    public void Append(ReadOnlySpan<byte> batch, long now)
    {
        if (FirstAppendTime < 0)
        {
            FirstAppendTime = now;
        }

        RandomAccess.Write(_handle, batch, Size);
        Track(batch, Size);
        Size += batch.Length;
    }

    private void Track(ReadOnlySpan<byte> header, long position)
    {
        if (position - _lastIndexedPosition >= IndexIntervalBytes)
        {
            if (_indexCount == _index.Length)
            {
                var bigger = new long[_index.Length * 2];
                _index.CopyTo(bigger, 0);
                Volatile.Write(ref _index, bigger);
            }

            // The entry is written before the count that makes it visible to lock-free readers.
            _index[_indexCount] = ((RecordBatch.BaseOffset(header) - BaseOffset) << 32) | position;
            Volatile.Write(ref _indexCount, _indexCount + 1);
            _lastIndexedPosition = position;
        }

        NextOffset = RecordBatch.LastOffset(header) + 1;
        MaxTimestamp = Math.Max(MaxTimestamp, RecordBatch.MaxTimestamp(header));
    }

    public int Read(Span<byte> destination, long position) => RandomAccess.Read(_handle, destination, position);

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    /// <summary>
    /// Cuts the file back to <paramref name="size"/> (a batch boundary) for it to be the active segment again:
    /// its side index goes too. The caller fsyncs and rescans it with <see cref="Recover"/>.
    /// </summary>
    public void Truncate(long size)
    {
        RandomAccess.SetLength(_handle, size);
        File.Delete(IndexPath);
    }

    public bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _handle.Dispose();
            if (Deleted)
            {
                File.Delete(LogPath);
                File.Delete(IndexPath);
            }
        }
    }

    public bool Deleted { get; private set; }

    /// <summary>Drops the owner's reference; the files go once the last reader is done.</summary>
    public void Delete()
    {
        Deleted = true;
        Release();
    }

    /// <summary>
    /// Removes the files now and drops the owner's reference: a log cut back below this segment reuses its
    /// base offset, so a reader's late release must not delete files by this name.
    /// </summary>
    public void Discard()
    {
        File.Delete(LogPath);
        File.Delete(IndexPath);
        Release();
    }

    /// <summary>Closes the owner's reference without deleting anything (shutdown).</summary>
    public void Close() => Release();

    /// <summary>
    /// The file position of the batch holding <paramref name="offset"/> (or of the first batch after it),
    /// looking no further than <paramref name="limit"/>; returns <paramref name="limit"/> when no batch qualifies.
    /// </summary>
    public long FindPosition(long offset, long limit)
    {
        var position = 0L;
        var count = Volatile.Read(ref _indexCount);
        var index = Volatile.Read(ref _index);
        int low = 0, high = Math.Min(count, index.Length) - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var entryOffset = BaseOffset + (index[mid] >> 32);
            if (entryOffset <= offset)
            {
                position = index[mid] & 0xFFFFFFFF;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        Span<byte> header = stackalloc byte[RecordBatch.HeaderSize];
        while (position < limit)
        {
            if (Read(header[..(RecordBatch.LastOffsetDeltaOffset + 4)], position) < RecordBatch.LastOffsetDeltaOffset + 4)
            {
                return limit;
            }

            if (RecordBatch.LastOffset(header) >= offset)
            {
                return position;
            }

            position += RecordBatch.TotalSize(header);
        }

        return limit;
    }

    /// <summary>Finds the first batch whose max timestamp reaches <paramref name="timestamp"/>; returns its position or -1.</summary>
    public long FindPositionByTimestamp(long timestamp, long limit, out long batchBaseOffset)
    {
        Span<byte> header = stackalloc byte[RecordBatch.HeaderSize];
        for (var position = 0L; position < limit;)
        {
            if (Read(header, position) < RecordBatch.HeaderSize)
            {
                break;
            }

            if (RecordBatch.MaxTimestamp(header) >= timestamp)
            {
                batchBaseOffset = RecordBatch.BaseOffset(header);
                return position;
            }

            position += RecordBatch.TotalSize(header);
        }

        batchBaseOffset = -1;
        return -1;
    }

    /// <summary>
    /// Rebuilds the index by walking the file. With <paramref name="validate"/> every batch's CRC and offset
    /// continuity is checked and the file is cut at the first bad or torn batch; returns the bytes cut.
    /// <paramref name="onBatch"/> sees each valid batch header (producer state is rebuilt from it).
    /// </summary>
    public long Recover(bool validate, int maxBatchBytes, Action<ReadOnlySpan<byte>>? onBatch)
    {
        _indexCount = 0;
        _lastIndexedPosition = -IndexIntervalBytes;
        NextOffset = BaseOffset;
        MaxTimestamp = -1;
        var fileLength = RandomAccess.GetLength(_handle);
        var buffer = ArrayPool<byte>.Shared.Rent(ScanBufferSize);
        try
        {
            long position = 0;
            while (position < fileLength)
            {
                if (fileLength - position < RecordBatch.HeaderSize
                    || Read(buffer.AsSpan(0, RecordBatch.HeaderSize), position) < RecordBatch.HeaderSize)
                {
                    break;
                }

                var total = RecordBatch.TotalSize(buffer);
                if (total < RecordBatch.HeaderSize || total > maxBatchBytes || position + total > fileLength)
                {
                    break;
                }

                if (validate)
                {
                    if (total > buffer.Length)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(total);
                    }

                    var batch = buffer.AsSpan(0, total);
                    if (Read(batch, position) < total
                        || RecordBatch.Validate(batch) != BatchValidation.Valid
                        || RecordBatch.BaseOffset(batch) != NextOffset)
                    {
                        break;
                    }
                }

                var header = buffer.AsSpan(0, RecordBatch.HeaderSize);
                Track(header, position);
                onBatch?.Invoke(header);
                position += total;
            }

            var cut = fileLength - position;
            if (cut > 0)
            {
                RandomAccess.SetLength(_handle, position);
                RandomAccess.FlushToDisk(_handle);
            }

            Size = position;
            return cut;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the index, end offset and max timestamp beside a sealed segment.</summary>
    public void WriteIndexFile()
    {
        var bytes = new byte[36 + (_indexCount * 8)];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IndexFileMagic);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(4), Size);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(12), NextOffset);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(20), MaxTimestamp);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(28), _indexCount);
        for (var i = 0; i < _indexCount; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(32 + (i * 8)), _index[i]);
        }

        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        var temporary = IndexPath + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, IndexPath, overwrite: true);
    }

    /// <summary>Loads the side index if it matches the file; false means the caller must rescan.</summary>
    public bool TryLoadIndexFile()
    {
        if (!File.Exists(IndexPath))
        {
            return false;
        }

        var bytes = File.ReadAllBytes(IndexPath);
        if (bytes.Length < 36
            || BinaryPrimitives.ReadInt32BigEndian(bytes) != IndexFileMagic
            || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(bytes.Length - 4)) != Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4))
            || BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(4)) != Size)
        {
            return false;
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(28));
        if (bytes.Length != 36 + (count * 8))
        {
            return false;
        }

        NextOffset = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(12));
        MaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(20));
        _index = new long[Math.Max(count, 64)];
        for (var i = 0; i < count; i++)
        {
            _index[i] = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(32 + (i * 8)));
        }

        _indexCount = count;
        _lastIndexedPosition = count > 0 ? _index[count - 1] & 0xFFFFFFFF : -IndexIntervalBytes;
        return true;
    }
}
