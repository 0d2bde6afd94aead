using System.Buffers.Binary;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>Builds uncompressed RecordBatch v2 bytes the way a producer does, for unit tests and raw-protocol tests.</summary>
public static class TestBatches
{
    public static byte[] Build(int records, long baseTimestamp = -1, long producerId = -1, short epoch = -1, int baseSequence = -1, int valueSize = 10)
    {
        if (baseTimestamp < 0)
        {
            baseTimestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }

        var body = new List<byte>();
        for (var i = 0; i < records; i++)
        {
            var record = new List<byte> { 0 };
            WriteVarLong(record, i);
            WriteVarLong(record, i);
            WriteVarLong(record, -1);
            WriteVarLong(record, valueSize);
            for (var b = 0; b < valueSize; b++)
            {
                record.Add((byte)(i + b));
            }

            WriteVarLong(record, 0);
            WriteVarLong(body, record.Count);
            body.AddRange(record);
        }

        var batch = new byte[RecordBatch.HeaderSize + body.Count];
        var span = batch.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatch.LengthOffset..], batch.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatch.PartitionLeaderEpochOffset..], -1);
        span[RecordBatch.MagicOffset] = 2;
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatch.LastOffsetDeltaOffset..], records - 1);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatch.BaseTimestampOffset..], baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatch.MaxTimestampOffset..], baseTimestamp + records - 1);
        BinaryPrimitives.WriteInt64BigEndian(span[RecordBatch.ProducerIdOffset..], producerId);
        BinaryPrimitives.WriteInt16BigEndian(span[RecordBatch.ProducerEpochOffset..], epoch);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatch.BaseSequenceOffset..], baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(span[RecordBatch.RecordsCountOffset..], records);
        body.CopyTo(batch, RecordBatch.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(span[RecordBatch.CrcOffset..], Crc32C.Compute(span[RecordBatch.AttributesOffset..]));
        return batch;
    }

    private static void WriteVarLong(List<byte> output, long value)
    {
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        while (zigzag >= 0x80)
        {
            output.Add((byte)(zigzag | 0x80));
            zigzag >>= 7;
        }

        output.Add((byte)zigzag);
    }
}
