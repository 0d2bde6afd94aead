using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

[Collection(SharedBrokerCollection.Name)]
public sealed class OffsetCommitTests(SharedBrokerFixture fixture)
{
    private const string Topic = "offset-metadata";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Offset_metadata_over_4096_characters_gets_OFFSET_METADATA_TOO_LARGE_for_its_partition_and_the_others_are_committed()
    {
        using (var admin = new ClientLog().BuildAdmin(fixture.Broker.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 3, ReplicationFactor = 1 }]);
        }

        using var connection = await RawConnection.OpenAsync(fixture.Broker.Port);
        byte[][] metadata =
        [
            Encoding.ASCII.GetBytes(new string('m', 4096)),
            Encoding.ASCII.GetBytes(new string('m', 4097)),
            // Invalid UTF-8: each byte decodes to a three-byte replacement character.
            [.. Enumerable.Repeat((byte)0xFF, 11_000)],
        ];
        await connection.SendAsync(RawConnection.Request(8, 2, 1, OffsetCommitBody("offset-metadata-group", metadata)));
        var response = await connection.ReadFrameAsync(Timeout);

        Assert.NotNull(response);
        Assert.Equal([0, 12, 12], PartitionErrors(response));
    }

    /// <summary>OffsetCommit v2: group, generation -1 (no member), retention -1, one topic with a partition per metadata.</summary>
    private static byte[] OffsetCommitBody(string group, byte[][] metadata)
    {
        var body = new List<byte>();
        String(body, Encoding.ASCII.GetBytes(group));
        Int32(body, -1);
        String(body, []);
        body.AddRange(Enumerable.Repeat((byte)0xFF, 8));
        Int32(body, 1);
        String(body, Encoding.ASCII.GetBytes(Topic));
        Int32(body, metadata.Length);
        for (var p = 0; p < metadata.Length; p++)
        {
            Int32(body, p);
            body.AddRange(new byte[7]);
            body.Add(42);
            String(body, metadata[p]);
        }

        return [.. body];
    }

    private static short[] PartitionErrors(byte[] response)
    {
        var at = 4 + 4;
        at += 2 + BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(at));
        var count = BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(at));
        return [.. Enumerable.Range(0, count).Select(p => BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(at + 4 + (p * 6) + 4)))];
    }

    private static void Int32(List<byte> body, int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static void String(List<byte> body, byte[] value)
    {
        body.Add((byte)(value.Length >> 8));
        body.Add((byte)value.Length);
        body.AddRange(value);
    }
}
