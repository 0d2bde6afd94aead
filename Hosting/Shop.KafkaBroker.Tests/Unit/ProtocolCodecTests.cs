using System.Buffers.Binary;
using Shop.KafkaBroker.Protocol;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class ProtocolCodecTests
{
    [Fact]
    public void Writer_and_reader_round_trip_every_primitive()
    {
        using var writer = new ResponseWriter(correlationId: 7);
        writer.WriteInt8(-3);
        writer.WriteInt16(-2);
        writer.WriteInt32(123456);
        writer.WriteInt64(-9_000_000_000);
        writer.WriteString("héllo");
        writer.WriteNullableString(null);
        writer.WriteBytes([1, 2, 3]);
        writer.WriteUnsignedVarInt(300);
        var frame = writer.Frame.Span;

        Assert.Equal(frame.Length - 4, BinaryPrimitives.ReadInt32BigEndian(frame));
        var reader = new KafkaReader(frame, 4);
        Assert.Equal(7, reader.ReadInt32());
        Assert.Equal(-3, reader.ReadInt8());
        Assert.Equal(-2, reader.ReadInt16());
        Assert.Equal(123456, reader.ReadInt32());
        Assert.Equal(-9_000_000_000, reader.ReadInt64());
        Assert.Equal("héllo", reader.ReadString());
        Assert.Null(reader.ReadNullableString());
        Assert.Equal([1, 2, 3], reader.ReadBytes());
        Assert.Equal(300u, reader.ReadUnsignedVarInt());
        Assert.Equal(0, reader.Remaining);
    }

    [Theory]
    [InlineData(256, 257, 512)]
    [InlineData(256, 10_000, 10_000)]
    public void A_response_buffer_grows_by_doubling_or_to_what_is_needed(int current, long needed, int expected) =>
        Assert.Equal(expected, ResponseWriter.GrownSize(current, needed));

    [Theory]
    [InlineData(1 << 30)]
    [InlineData(1_500_000_000)]
    public void Past_one_gibibyte_a_response_buffer_grows_to_the_largest_array_instead_of_overflowing(int current) =>
        Assert.Equal(Array.MaxLength, ResponseWriter.GrownSize(current, current + 1L));

    [Fact]
    public void A_response_larger_than_the_largest_array_fails_clearly_instead_of_overflowing()
    {
        using var writer = new ResponseWriter(correlationId: 1);
        Assert.Throws<InvalidOperationException>(() => writer.GetSpan(int.MaxValue - 4));
    }

    [Fact]
    public void A_string_longer_than_a_16_bit_length_fails_instead_of_writing_a_negative_length()
    {
        using var writer = new ResponseWriter(correlationId: 1);
        writer.WriteString(new string('s', short.MaxValue));
        Assert.Throws<InvalidOperationException>(() => writer.WriteString(new string('s', short.MaxValue + 1)));
        Assert.Throws<InvalidOperationException>(() => writer.WriteNullableString(new string('\uFFFD', 11_000)));
    }

    [Fact]
    public void Truncated_input_is_a_protocol_error_not_a_crash()
    {
        byte[] data = [0, 10, (byte)'a', (byte)'b'];
        Assert.Throws<ProtocolException>(() => new KafkaReader(data).ReadString());
        Assert.Throws<ProtocolException>(() => new KafkaReader([0, 0]).ReadInt32());
    }

    [Fact]
    public void An_array_count_larger_than_the_request_is_rejected_before_allocating()
    {
        byte[] data = [0x7F, 0xFF, 0xFF, 0xFF, 0, 0];
        Assert.Throws<ProtocolException>(() => new KafkaReader(data).ReadArrayCount(4));
        Assert.Equal(-1, new KafkaReader([0xFF, 0xFF, 0xFF, 0xFF]).ReadArrayCount());
    }

    [Fact]
    public void Compact_strings_and_tagged_fields_decode()
    {
        byte[] data = [4, (byte)'a', (byte)'b', (byte)'c', 0, 1, 5, 2, 9, 9];
        var reader = new KafkaReader(data);
        Assert.Equal("abc", reader.ReadCompactNullableString());
        Assert.Null(reader.ReadCompactNullableString());
        reader.SkipTaggedFields();
        Assert.Equal(0, reader.Remaining);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeleteRecords_is_not_advertised_because_no_handler_serves_it(bool sasl)
    {
        const short deleteRecords = 21;
        var reader = new KafkaReader([]);
        using var response = Handlers.ApiVersionsHandler.Handle(ref reader, version: 0, correlationId: 5, sasl);
        var body = new KafkaReader(response.Frame.Span, 4);
        body.ReadInt32();
        Assert.Equal(ErrorCode.None, body.ReadInt16());
        var keys = new List<short>();
        for (var count = body.ReadArrayCount(); count > 0; count--)
        {
            keys.Add(body.ReadInt16());
            body.ReadInt16();
            body.ReadInt16();
        }

        Assert.Contains((short)ApiKey.DeleteTopics, keys);
        Assert.DoesNotContain(deleteRecords, keys);
    }

    [Fact]
    public void Api_versions_above_the_supported_range_get_a_v0_unsupported_version_answer()
    {
        var reader = new KafkaReader([]);
        using var response = Handlers.ApiVersionsHandler.Handle(ref reader, version: 9, correlationId: 5, sasl: false);
        var body = new KafkaReader(response.Frame.Span, 4);
        Assert.Equal(5, body.ReadInt32());
        Assert.Equal(ErrorCode.UnsupportedVersion, body.ReadInt16());
        Assert.Equal(1, body.ReadArrayCount());
        Assert.Equal((short)ApiKey.ApiVersions, body.ReadInt16());
        Assert.Equal(0, body.ReadInt16());
        Assert.Equal(3, body.ReadInt16());
        Assert.Equal(0, body.Remaining);
    }
}
