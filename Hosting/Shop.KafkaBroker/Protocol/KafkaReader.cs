using System.Buffers.Binary;
using System.Text;

namespace Shop.KafkaBroker.Protocol;

/// <summary>
/// Big-endian reader over one request frame. Every length and count is checked against the bytes left,
/// so a hostile frame can neither read out of bounds nor make the broker allocate more than it sent.
/// </summary>
public ref struct KafkaReader(ReadOnlySpan<byte> buffer, int position = 0)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;

    public int Position { get; private set; } = position;

    public readonly int Remaining => _buffer.Length - Position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new ProtocolException($"Request truncated: needed {count} bytes at position {Position}, {Remaining} left.");
        }

        var span = _buffer.Slice(Position, count);
        Position += count;
        return span;
    }

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public bool ReadBool() => Take(1)[0] != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public string ReadString() =>
        ReadNullableString() ?? throw new ProtocolException("A non-nullable string was null.");

    public string? ReadNullableString()
    {
        var length = ReadInt16();
        if (length == -1)
        {
            return null;
        }

        if (length < 0)
        {
            throw new ProtocolException($"Invalid string length {length}.");
        }

        return Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>Reads int32-length bytes and returns where they sit in the frame (start -1 when null).</summary>
    public (int Start, int Length) ReadBytesRange()
    {
        var length = ReadInt32();
        if (length == -1)
        {
            return (-1, 0);
        }

        if (length < 0)
        {
            throw new ProtocolException($"Invalid bytes length {length}.");
        }

        var start = Position;
        Take(length);
        return (start, length);
    }

    public byte[] ReadBytes()
    {
        var (start, length) = ReadBytesRange();
        return start < 0 ? [] : _buffer.Slice(start, length).ToArray();
    }

    /// <summary>Reads an int32 array count; -1 means null. Each element takes at least <paramref name="minElementSize"/> bytes.</summary>
    public int ReadArrayCount(int minElementSize = 1)
    {
        var count = ReadInt32();
        if (count == -1)
        {
            return -1;
        }

        if (count < 0 || (long)count * minElementSize > Remaining)
        {
            throw new ProtocolException($"Invalid array length {count}.");
        }

        return count;
    }

    public uint ReadUnsignedVarInt()
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1)[0];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new ProtocolException("Malformed unsigned varint.");
    }

    public string? ReadCompactNullableString()
    {
        var length = ReadUnsignedVarInt();
        if (length == 0)
        {
            return null;
        }

        if (length - 1 > (uint)Remaining)
        {
            throw new ProtocolException("Compact string longer than the request.");
        }

        return Encoding.UTF8.GetString(Take((int)(length - 1)));
    }

    /// <summary>Compact bytes (unsigned varint length + 1, 0 = null): where they sit in the frame (start -1 when null).</summary>
    public (int Start, int Length) ReadCompactBytesRange()
    {
        var length = ReadUnsignedVarInt();
        if (length == 0)
        {
            return (-1, 0);
        }

        if (length - 1 > (uint)Remaining)
        {
            throw new ProtocolException("Compact bytes longer than the request.");
        }

        var start = Position;
        Take((int)(length - 1));
        return (start, (int)(length - 1));
    }

    public void SkipTaggedFields()
    {
        var count = ReadUnsignedVarInt();
        for (var i = 0; i < count; i++)
        {
            ReadUnsignedVarInt();
            var size = ReadUnsignedVarInt();
            if (size > (uint)Remaining)
            {
                throw new ProtocolException("Tagged field longer than the request.");
            }

            Take((int)size);
        }
    }
}
