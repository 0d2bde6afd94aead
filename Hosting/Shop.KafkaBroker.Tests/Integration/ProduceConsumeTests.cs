using System.Buffers.Binary;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

[Collection(SharedBrokerCollection.Name)]
public sealed class ProduceConsumeTests(SharedBrokerFixture fixture)
{
    private const int MessageCount = 100_000;
    private const int Partitions = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static TheoryData<CompressionType, bool> Cases => new()
    {
        { CompressionType.None, true },
        { CompressionType.Gzip, true },
        { CompressionType.Snappy, true },
        { CompressionType.Lz4, true },
        { CompressionType.Zstd, true },
        { CompressionType.None, false },
        { CompressionType.Gzip, false },
        { CompressionType.Snappy, false },
        { CompressionType.Lz4, false },
        { CompressionType.Zstd, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_message_arrives_once_in_order_with_keys_headers_and_timestamps(CompressionType codec, bool idempotent)
    {
        var bootstrap = fixture.Broker.BootstrapServers;
        var topic = $"pc-{codec}-{(idempotent ? "idem" : "plain")}".ToLowerInvariant();
        var log = new ClientLog();
        using (var admin = log.BuildAdmin(bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }

        var baseTime = DateTime.UnixEpoch.AddMilliseconds(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds());
        var positions = new (int Partition, long Offset)[MessageCount];
        var failures = 0;
        using (var producer = log.BuildProducer<string, byte[]>(log.Producer(bootstrap, idempotent, codec)))
        {
            for (var i = 0; i < MessageCount; i++)
            {
                var seq = i;
                producer.Produce(topic, new Message<string, byte[]>
                {
                    Key = KeyOf(i),
                    Value = ValueOf(i),
                    Headers = new Headers { { "seq", BitConverter.GetBytes(i) }, { "codec", "x"u8.ToArray() } },
                    Timestamp = new Timestamp(baseTime.AddMilliseconds(i), TimestampType.CreateTime),
                }, report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.Increment(ref failures);
                    }
                    else
                    {
                        positions[seq] = (report.Partition.Value, report.Offset.Value);
                    }
                });
            }

            Assert.Equal(0, producer.Flush(Timeout));
        }

        Assert.Equal(0, failures);

        var seen = new bool[MessageCount];
        var lastSeqByPartition = Enumerable.Repeat(-1, Partitions).ToArray();
        var lastOffsetByPartition = Enumerable.Repeat(-1L, Partitions).ToArray();
        var received = 0;
        using (var consumer = log.BuildConsumer<string, byte[]>(log.Consumer(bootstrap, $"{topic}-reader")))
        {
            consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            using var cancellation = new CancellationTokenSource(Timeout);
            while (received < MessageCount)
            {
                var result = consumer.Consume(cancellation.Token);
                var seq = BinaryPrimitives.ReadInt32LittleEndian(result.Message.Headers.GetLastBytes("seq"));
                var partition = result.Partition.Value;
                Assert.False(seen[seq], $"message {seq} arrived twice");
                seen[seq] = true;
                received++;
                Assert.Equal(KeyOf(seq), result.Message.Key);
                Assert.Equal(ValueOf(seq), result.Message.Value);
                Assert.Equal("x"u8.ToArray(), result.Message.Headers.GetLastBytes("codec"));
                Assert.Equal(TimestampType.CreateTime, result.Message.Timestamp.Type);
                Assert.Equal(baseTime.AddMilliseconds(seq), result.Message.Timestamp.UtcDateTime);
                Assert.Equal(positions[seq], (partition, result.Offset.Value));
                Assert.True(seq > lastSeqByPartition[partition], $"partition {partition}: {seq} after {lastSeqByPartition[partition]}");
                Assert.True(result.Offset.Value > lastOffsetByPartition[partition]);
                lastSeqByPartition[partition] = seq;
                lastOffsetByPartition[partition] = result.Offset.Value;
            }

            consumer.Close();
        }

        Assert.All(seen, Assert.True);
        Assert.Empty(log.Problems);
        Assert.True(log.Lines > 0, "librdkafka debug logging should have produced lines to check");
    }

    private static string KeyOf(int i) => $"key-{i % 97}";

    private static byte[] ValueOf(int i)
    {
        var value = new byte[100];
        BinaryPrimitives.WriteInt32LittleEndian(value, i);
        for (var b = 4; b < value.Length; b++)
        {
            value[b] = (byte)((i * 31) + b);
        }

        return value;
    }
}
