using System.Buffers.Binary;

namespace Shop.KafkaBroker.Storage;

/// <summary>Offsets and accessors of the RecordBatch v2 header (the layout in the Kafka protocol).</summary>
public static class RecordBatch
{
    public const int BaseOffsetOffset = 0;
    public const int LengthOffset = 8;
    public const int PartitionLeaderEpochOffset = 12;
    public const int MagicOffset = 16;
    public const int CrcOffset = 17;
    public const int AttributesOffset = 21;
    public const int LastOffsetDeltaOffset = 23;
    public const int BaseTimestampOffset = 27;
    public const int MaxTimestampOffset = 35;
    public const int ProducerIdOffset = 43;
    public const int ProducerEpochOffset = 51;
    public const int BaseSequenceOffset = 53;
    public const int RecordsCountOffset = 57;
    public const int HeaderSize = 61;

    /// <summary>Bytes before the BatchLength field counts from.</summary>
    public const int LogOverhead = 12;

    /// <summary>
    /// The largest batch recovery takes for real rather than for a torn length field. Every limit that lets a
    /// batch in (the broker's and each topic's max.message.bytes) is capped at it, so no acknowledged batch is cut.
    /// </summary>
    public const int MaxStoredBatchBytes = 256 * 1024 * 1024;

    public const int CompressionMask = 0x07;
    public const int TimestampTypeFlag = 0x08;
    public const int TransactionalFlag = 0x10;
    public const int ControlFlag = 0x20;

    public static long BaseOffset(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64BigEndian(batch);

    public static int Length(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32BigEndian(batch[LengthOffset..]);

    /// <summary>The whole batch size on disk, including the offset and length fields.</summary>
    public static int TotalSize(ReadOnlySpan<byte> batch) => Length(batch) + LogOverhead;

    public static short Attributes(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt16BigEndian(batch[AttributesOffset..]);

    public static int LastOffsetDelta(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32BigEndian(batch[LastOffsetDeltaOffset..]);

    public static long LastOffset(ReadOnlySpan<byte> batch) => BaseOffset(batch) + LastOffsetDelta(batch);

    public static long BaseTimestamp(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64BigEndian(batch[BaseTimestampOffset..]);

    public static long MaxTimestamp(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64BigEndian(batch[MaxTimestampOffset..]);

    public static long ProducerId(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64BigEndian(batch[ProducerIdOffset..]);

    public static short ProducerEpoch(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt16BigEndian(batch[ProducerEpochOffset..]);

    public static int BaseSequence(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32BigEndian(batch[BaseSequenceOffset..]);

    public static int RecordsCount(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32BigEndian(batch[RecordsCountOffset..]);

    public static uint StoredCrc(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadUInt32BigEndian(batch[CrcOffset..]);

    public static uint ComputeCrc(ReadOnlySpan<byte> batch) => Crc32C.Compute(batch[AttributesOffset..TotalSize(batch)]);

    /// <summary>Checks framing, magic and CRC of one complete batch as it arrives or is read back.</summary>
    public static BatchValidation Validate(ReadOnlySpan<byte> batch)
    {
        if (batch.Length < HeaderSize)
        {
            return BatchValidation.Truncated;
        }

        if (batch[MagicOffset] != 2)
        {
            return BatchValidation.BadMagic;
        }

        var length = Length(batch);
        if (length < HeaderSize - LogOverhead || length > batch.Length - LogOverhead)
        {
            return BatchValidation.Truncated;
        }

        if (LastOffsetDelta(batch) < 0)
        {
            return BatchValidation.Corrupt;
        }

        return ComputeCrc(batch) == StoredCrc(batch) ? BatchValidation.Valid : BatchValidation.Corrupt;
    }

    /// <summary>
    /// Whether the header agrees with the contents, as Kafka's LogValidator asks: the record count is positive and
    /// matches the offset range, and an uncompressed records section holds exactly that many well-formed records up
    /// to the batch end. Compressed records are not looked at (never decompressed). Only produced batches are checked:
    /// recovery keeps what was once accepted rather than cutting the log there.
    /// </summary>
    public static bool RecordsMatchHeader(ReadOnlySpan<byte> batch)
    {
        var count = RecordsCount(batch);
        if (count <= 0 || LastOffsetDelta(batch) + 1L != count)
        {
            return false;
        }

        if ((Attributes(batch) & CompressionMask) != 0)
        {
            return true;
        }

        var records = new RecordReader(batch[HeaderSize..TotalSize(batch)]);
        for (var i = 0; i < count; i++)
        {
            if (!records.TrySkipRecord())
            {
                return false;
            }
        }

        return records.AtEnd;
    }

    public static void SetBaseOffset(Span<byte> batch, long offset) => BinaryPrimitives.WriteInt64BigEndian(batch, offset);

    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochOffset..], epoch);

    /// <summary>Applies LogAppendTime: stamps the broker time as the batch's timestamp and re-signs the batch.</summary>
    public static void SetLogAppendTime(Span<byte> batch, long timestamp)
    {
        var attributes = (short)(Attributes(batch) | TimestampTypeFlag);
        BinaryPrimitives.WriteInt16BigEndian(batch[AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt64BigEndian(batch[MaxTimestampOffset..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcOffset..], ComputeCrc(batch));
    }
}

public enum BatchValidation
{
    Valid,
    Truncated,
    BadMagic,
    Corrupt,
}
