using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

public sealed class FetchLimitTests
{
    private const string Topic = "fetch-limits";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_fetch_asking_for_unlimited_bytes_of_one_partition_listed_many_times_gets_it_once_within_fetch_max_bytes()
    {
        var batch = TestBatches.Build(10, valueSize: 60);
        // Room for two whole batches but not three.
        var fetchMaxBytes = (batch.Length * 5) / 2;
        await using var broker = await BrokerProcess.StartAsync("--fetch-max-bytes", fetchMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using (var admin = new ClientLog().BuildAdmin(broker.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        using var connection = await RawConnection.OpenAsync(broker.Port);
        for (var i = 0; i < 3; i++)
        {
            await connection.SendAsync(RawConnection.Request(0, 3, i, ProduceBody(batch)));
            Assert.NotNull(await connection.ReadFrameAsync(Timeout));
        }

        await connection.SendAsync(RawConnection.Request(1, 4, 99, FetchBody(maxBytes: 0, timesListed: 50)));
        var response = await connection.ReadFrameAsync(Timeout);

        Assert.NotNull(response);
        var at = 4 + 4;
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(at)));
        at += 4 + 2 + BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(at + 4));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(at)));
        at += 4;
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(at + 4)));
        at += 4 + 2 + 8 + 8 + 4;
        Assert.Equal(2 * batch.Length, BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(at)));
        Assert.Equal(at + 4 + (2 * batch.Length), response.Length);
    }

    /// <summary>Produce v3 body: null transactional id, acks=-1, one batch for partition 0.</summary>
    private static byte[] ProduceBody(byte[] batch)
    {
        var body = new List<byte>();
        Int16(body, -1);
        Int16(body, -1);
        Int32(body, 5000);
        Int32(body, 1);
        String(body, Topic);
        Int32(body, 1);
        Int32(body, 0);
        Int32(body, batch.Length);
        body.AddRange(batch);
        return [.. body];
    }

    /// <summary>Fetch v4 body: no wait, the given response limit, partition 0 listed again and again with no partition limit.</summary>
    private static byte[] FetchBody(int maxBytes, int timesListed)
    {
        var body = new List<byte>();
        Int32(body, -1);
        Int32(body, 0);
        Int32(body, 1);
        Int32(body, maxBytes);
        body.Add(0);
        Int32(body, 1);
        String(body, Topic);
        Int32(body, timesListed);
        for (var i = 0; i < timesListed; i++)
        {
            Int32(body, 0);
            body.AddRange(new byte[8]);
            Int32(body, int.MaxValue);
        }

        return [.. body];
    }

    private static void Int16(List<byte> body, short value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static void Int32(List<byte> body, int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static void String(List<byte> body, string value)
    {
        Int16(body, (short)value.Length);
        body.AddRange(Encoding.UTF8.GetBytes(value));
    }
}
