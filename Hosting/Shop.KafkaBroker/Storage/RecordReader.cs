namespace Shop.KafkaBroker.Storage;

/// <summary>Reads the zigzag-varint framed records of an uncompressed batch, only as far as offsets and timestamps.</summary>
public ref struct RecordReader(ReadOnlySpan<byte> records)
{
    private readonly ReadOnlySpan<byte> _records = records;
    private int _position;

    public bool TryReadRecord(out long timestampDelta, out int offsetDelta)
    {
        timestampDelta = 0;
        offsetDelta = 0;
        if (!TryReadVarLong(out var length) || length < 0 || _position + length > _records.Length)
        {
            return false;
        }

        var end = _position + (int)length;
        _position++;
        if (!TryReadVarLong(out timestampDelta) || !TryReadVarLong(out var delta))
        {
            return false;
        }

        offsetDelta = (int)delta;
        _position = end;
        return true;
    }

    private bool TryReadVarLong(out long value)
    {
        ulong raw = 0;
        for (var shift = 0; shift < 70 && _position < _records.Length; shift += 7)
        {
            var b = _records[_position++];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                value = (long)(raw >> 1) ^ -(long)(raw & 1);
                return true;
            }
        }

        value = 0;
        return false;
    }
}
