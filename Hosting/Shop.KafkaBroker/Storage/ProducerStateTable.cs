using System.Buffers.Binary;

namespace Shop.KafkaBroker.Storage;

public enum SequenceCheck
{
    Append,
    Duplicate,
    OutOfOrder,
    StaleEpoch,
    UnknownProducer,
}

/// <summary>
/// Idempotent-producer state of one partition: per producer id the epoch and the last five batches'
/// sequence ranges and offsets, as Kafka keeps them. Rebuilt at start from a snapshot taken when a segment
/// rolls plus the batch headers written after it, so a retry after a restart is still recognised.
/// </summary>
public sealed class ProducerStateTable
{
    public const int CachedBatches = 5;
    private const int SnapshotMagic = 0x50534E31;

    private readonly Dictionary<long, ProducerEntry> _producers = [];

    public SequenceCheck Check(long producerId, short epoch, int baseSequence, int lastOffsetDelta, out long duplicateBaseOffset)
    {
        duplicateBaseOffset = -1;
        if (!_producers.TryGetValue(producerId, out var entry))
        {
            return baseSequence == 0 ? SequenceCheck.Append : SequenceCheck.UnknownProducer;
        }

        if (epoch < entry.Epoch)
        {
            return SequenceCheck.StaleEpoch;
        }

        if (epoch > entry.Epoch)
        {
            return baseSequence == 0 ? SequenceCheck.Append : SequenceCheck.OutOfOrder;
        }

        var lastSequence = IncrementSequence(baseSequence, lastOffsetDelta);
        foreach (var batch in entry.Batches)
        {
            if (batch.FirstSequence == baseSequence && batch.LastSequence == lastSequence)
            {
                duplicateBaseOffset = batch.BaseOffset;
                return SequenceCheck.Duplicate;
            }
        }

        var expected = entry.Batches.Count == 0 ? 0 : IncrementSequence(entry.Batches[^1].LastSequence, 1);
        return baseSequence == expected ? SequenceCheck.Append : SequenceCheck.OutOfOrder;
    }

    public void Record(long producerId, short epoch, int baseSequence, int lastOffsetDelta, long baseOffset, long timestamp)
    {
        if (!_producers.TryGetValue(producerId, out var entry) || entry.Epoch != epoch)
        {
            entry = new ProducerEntry { Epoch = epoch };
            _producers[producerId] = entry;
        }

        if (entry.Batches.Count == CachedBatches)
        {
            entry.Batches.RemoveAt(0);
        }

        entry.Batches.Add(new ProducerBatch(baseSequence, IncrementSequence(baseSequence, lastOffsetDelta), baseOffset));
        entry.LastTimestamp = Math.Max(entry.LastTimestamp, timestamp);
    }

    /// <summary>Feeds one stored batch header (used when rebuilding after a restart).</summary>
    public void Replay(ReadOnlySpan<byte> header)
    {
        var producerId = RecordBatch.ProducerId(header);
        if (producerId >= 0)
        {
            Record(producerId, RecordBatch.ProducerEpoch(header), RecordBatch.BaseSequence(header),
                RecordBatch.LastOffsetDelta(header), RecordBatch.BaseOffset(header), RecordBatch.MaxTimestamp(header));
        }
    }

    /// <summary>Sequences wrap to 0 after int.MaxValue (Kafka's DefaultRecordBatch.incrementSequence).</summary>
    public static int IncrementSequence(int sequence, int increment) =>
        sequence > int.MaxValue - increment ? increment - (int.MaxValue - sequence) - 1 : sequence + increment;

    public void ExpireOlderThan(long timestamp)
    {
        foreach (var (id, entry) in _producers.ToArray())
        {
            if (entry.LastTimestamp < timestamp)
            {
                _producers.Remove(id);
            }
        }
    }

    public void WriteSnapshot(string path)
    {
        var size = 12 + (_producers.Count * (8 + 2 + 8 + 1 + (CachedBatches * 16)));
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, SnapshotMagic);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], _producers.Count);
        var position = 8;
        foreach (var (id, entry) in _producers)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[position..], id);
            BinaryPrimitives.WriteInt16BigEndian(span[(position + 8)..], entry.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(position + 10)..], entry.LastTimestamp);
            span[position + 18] = (byte)entry.Batches.Count;
            position += 19;
            foreach (var batch in entry.Batches)
            {
                BinaryPrimitives.WriteInt32BigEndian(span[position..], batch.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span[(position + 4)..], batch.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span[(position + 8)..], batch.BaseOffset);
                position += 16;
            }
        }

        BinaryPrimitives.WriteUInt32BigEndian(span[position..], Crc32C.Compute(span[..position]));
        position += 4;
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            stream.Write(bytes, 0, position);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public bool TryLoadSnapshot(string path)
    {
        _producers.Clear();
        if (!File.Exists(path))
        {
            return false;
        }

        var bytes = File.ReadAllBytes(path);
        try
        {
            var span = bytes.AsSpan();
            if (BinaryPrimitives.ReadInt32BigEndian(span) != SnapshotMagic
                || BinaryPrimitives.ReadUInt32BigEndian(span[^4..]) != Crc32C.Compute(span[..^4]))
            {
                return false;
            }

            var count = BinaryPrimitives.ReadInt32BigEndian(span[4..]);
            var position = 8;
            for (var i = 0; i < count; i++)
            {
                var entry = new ProducerEntry
                {
                    Epoch = BinaryPrimitives.ReadInt16BigEndian(span[(position + 8)..]),
                    LastTimestamp = BinaryPrimitives.ReadInt64BigEndian(span[(position + 10)..]),
                };
                var id = BinaryPrimitives.ReadInt64BigEndian(span[position..]);
                int batches = span[position + 18];
                position += 19;
                for (var b = 0; b < batches; b++)
                {
                    entry.Batches.Add(new ProducerBatch(
                        BinaryPrimitives.ReadInt32BigEndian(span[position..]),
                        BinaryPrimitives.ReadInt32BigEndian(span[(position + 4)..]),
                        BinaryPrimitives.ReadInt64BigEndian(span[(position + 8)..])));
                    position += 16;
                }

                _producers[id] = entry;
            }

            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            _producers.Clear();
            return false;
        }
    }

    private sealed class ProducerEntry
    {
        public short Epoch { get; init; }

        public long LastTimestamp { get; set; }

        public List<ProducerBatch> Batches { get; } = new(CachedBatches);
    }

    private readonly record struct ProducerBatch(int FirstSequence, int LastSequence, long BaseOffset);
}
