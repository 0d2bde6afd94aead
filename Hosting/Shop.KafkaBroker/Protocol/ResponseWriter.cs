using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Shop.KafkaBroker.Protocol;

/// <summary>
/// Builds one response frame (size prefix, correlation id, body) in a pooled buffer that grows as needed.
/// The owner returns the buffer with <see cref="Dispose"/> once the frame is on the wire.
/// </summary>
public sealed class ResponseWriter : IDisposable
{
    private byte[] _buffer;

    public ResponseWriter(int correlationId, int initialSize = 256)
    {
        _buffer = NetworkBuffers.Pool.Rent(Math.Max(initialSize, 64));
        Length = 4;
        WriteInt32(correlationId);
    }

    private ResponseWriter(ReadOnlySpan<byte> payload)
    {
        _buffer = NetworkBuffers.Pool.Rent(Math.Max(4 + payload.Length, 64));
        Length = 4;
        payload.CopyTo(GetSpan(payload.Length));
        Length += payload.Length;
    }

    public int Length { get; private set; }

    /// <summary>
    /// A size-prefixed frame without a correlation id: how a SASL token is answered after SaslHandshake v0, which
    /// leaves the Kafka framing for the raw SASL exchange.
    /// </summary>
    public static ResponseWriter RawFrame(ReadOnlySpan<byte> payload) => new(payload);

    /// <summary>The finished frame with its size prefix filled in.</summary>
    public ReadOnlyMemory<byte> Frame
    {
        get
        {
            BinaryPrimitives.WriteInt32BigEndian(_buffer, Length - 4);
            return _buffer.AsMemory(0, Length);
        }
    }

    public Span<byte> GetSpan(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if ((long)Length + size > _buffer.Length)
        {
            var bigger = NetworkBuffers.Pool.Rent(GrownSize(_buffer.Length, (long)Length + size));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            NetworkBuffers.Pool.Return(_buffer);
            _buffer = bigger;
        }

        return _buffer.AsSpan(Length, size);
    }

    /// <summary>
    /// Doubles, counted in 64 bits: past 1 GiB an int would overflow and every later write would copy the whole
    /// buffer again. A frame never exceeds the largest array (its size prefix is an int32 too).
    /// </summary>
    internal static int GrownSize(int current, long needed)
    {
        if (needed > Array.MaxLength)
        {
            throw new InvalidOperationException($"A response of {needed} bytes exceeds the largest possible frame ({Array.MaxLength} bytes).");
        }

        return (int)Math.Min(Math.Max(current * 2L, needed), Array.MaxLength);
    }

    public void Advance(int count) => Length += count;

    /// <summary>Gives back bytes written past <paramref name="length"/> (used to trim fetched data).</summary>
    public void Truncate(int length) => Length = length;

    public void WriteInt8(sbyte value)
    {
        GetSpan(1)[0] = (byte)value;
        Length += 1;
    }

    public void WriteBool(bool value) => WriteInt8(value ? (sbyte)1 : (sbyte)0);

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(GetSpan(2), value);
        Length += 2;
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(GetSpan(4), value);
        Length += 4;
    }

    /// <summary>Reserves an int32 to be filled in later; returns its position.</summary>
    public int ReserveInt32()
    {
        var position = Length;
        WriteInt32(0);
        return position;
    }

    public void PatchInt32(int position, int value) =>
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(position, 4), value);

    public void PatchInt16(int position, short value) =>
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(position, 2), value);

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(GetSpan(8), value);
        Length += 8;
    }

    public void WriteString(string value)
    {
        var size = Encoding.UTF8.GetByteCount(value);
        if (size > short.MaxValue)
        {
            // A cast would write a negative length and the client would misread the rest of the response.
            throw new InvalidOperationException($"A string of {size} UTF-8 bytes does not fit a 16-bit length.");
        }

        WriteInt16((short)size);
        Encoding.UTF8.GetBytes(value, GetSpan(size));
        Length += size;
    }

    public void WriteNullableString(string? value)
    {
        if (value is null)
        {
            WriteInt16(-1);
        }
        else
        {
            WriteString(value);
        }
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(GetSpan(value.Length));
        Length += value.Length;
    }

    public void WriteArrayCount(int count) => WriteInt32(count);

    public void WriteUnsignedVarInt(uint value)
    {
        while (value >= 0x80)
        {
            WriteInt8((sbyte)(byte)(value | 0x80));
            value >>= 7;
        }

        WriteInt8((sbyte)(byte)value);
    }

    public void WriteEmptyTaggedFields() => WriteUnsignedVarInt(0);

    public void WriteCompactString(string value)
    {
        var size = Encoding.UTF8.GetByteCount(value);
        WriteUnsignedVarInt((uint)size + 1);
        Encoding.UTF8.GetBytes(value, GetSpan(size));
        Length += size;
    }

    public void WriteCompactNullableString(string? value)
    {
        if (value is null)
        {
            WriteUnsignedVarInt(0);
        }
        else
        {
            WriteCompactString(value);
        }
    }

    public void WriteCompactBytes(ReadOnlySpan<byte> value)
    {
        WriteUnsignedVarInt((uint)value.Length + 1);
        value.CopyTo(GetSpan(value.Length));
        Length += value.Length;
    }

    public void WriteCompactArrayCount(int count) => WriteUnsignedVarInt((uint)count + 1);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            NetworkBuffers.Pool.Return(buffer);
        }
    }
}
