namespace Shop.KafkaBroker.Storage;

/// <summary>
/// Reads the zigzag-varint framed records of an uncompressed batch: offsets and timestamps, or just the structure
/// when a produced batch is checked.
/// </summary>
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

    public readonly bool AtEnd => _position == _records.Length;

    /// <summary>Walks one record (attributes, deltas, key, value, headers); false unless it fills its length exactly.</summary>
    public bool TrySkipRecord()
    {
        if (!TryReadVarLong(out var length) || length <= 0 || length > _records.Length - _position)
        {
            return false;
        }

        var record = new RecordReader(_records.Slice(_position, (int)length));
        _position += (int)length;
        return record.TryReadRecordBody();
    }

    private bool TryReadRecordBody()
    {
        _position++;
        if (!TryReadVarLong(out _) || !TryReadVarLong(out _) || !TrySkipBytes(nullable: true) || !TrySkipBytes(nullable: true)
            || !TryReadVarLong(out var headers) || headers < 0)
        {
            return false;
        }

        for (long h = 0; h < headers; h++)
        {
            if (!TrySkipBytes(nullable: false) || !TrySkipBytes(nullable: true))
            {
                return false;
            }
        }

        return AtEnd;
    }

    private bool TrySkipBytes(bool nullable)
    {
        if (!TryReadVarLong(out var length) || length < (nullable ? -1 : 0) || length > _records.Length - _position)
        {
            return false;
        }

        _position += (int)Math.Max(length, 0);
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
