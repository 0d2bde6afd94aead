using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

[Collection(SharedBrokerCollection.Name)]
public sealed class MalformedInputTests(SharedBrokerFixture fixture)
{
    private const string Topic = "malformed-neighbour";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private int Port => fixture.Broker.Port;

    [Fact]
    public async Task Misbehaving_clients_get_errors_or_closed_connections_while_a_well_behaved_client_is_unaffected()
    {
        var log = new ClientLog();
        using (var admin = log.BuildAdmin(fixture.Broker.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        using var stop = new CancellationTokenSource();
        var neighbour = Task.Run(() => WellBehavedTrafficAsync(log, stop.Token));

        // Garbage (an HTTP request read as a Kafka frame claims ~1.2 GB): closed.
        await AssertClosedAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: broker\r\n\r\n"));
        // An oversized and a negative length prefix: closed before anything is buffered.
        await AssertClosedAsync([0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]);
        await AssertClosedAsync([0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3, 4]);
        // A frame that ends before its declared size, then the client stops sending: closed.
        await AssertClosedAsync([0, 0, 0, 100, 0, 3, 0, 1], shutdownSend: true);
        // An unknown API key and an unsupported version of a known one: closed (as Kafka does).
        await AssertClosedAsync(RawConnection.Request(999, 0, 1, []));
        await AssertClosedAsync(RawConnection.Request(3, 99, 1, []));
        // A well-framed Metadata request whose body promises 5 topics and holds none: closed.
        await AssertClosedAsync(RawConnection.Request(3, 1, 1, [0, 0, 0, 5]));

        // ApiVersions at a version the broker does not know: a v0 answer with UNSUPPORTED_VERSION.
        using (var connection = await RawConnection.OpenAsync(Port))
        {
            await connection.SendAsync(RawConnection.Request(18, 42, 7, []));
            var response = await connection.ReadFrameAsync(Timeout);
            Assert.NotNull(response);
            Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian(response));
            Assert.Equal(35, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4)));
        }

        // A batch with a bad CRC: CORRUPT_MESSAGE for that partition, and the connection keeps working.
        using (var connection = await RawConnection.OpenAsync(Port))
        {
            var batch = TestBatches.Build(3);
            batch[^2] ^= 0x5A;
            await connection.SendAsync(RawConnection.Request(0, 3, 11, ProduceBody(Topic, batch)));
            var response = await connection.ReadFrameAsync(Timeout);
            Assert.NotNull(response);
            Assert.Equal(11, BinaryPrimitives.ReadInt32BigEndian(response));
            Assert.Equal(2, PartitionError(response));

            await connection.SendAsync(RawConnection.Request(0, 3, 12, ProduceBody(Topic, TestBatches.Build(3))));
            var good = await connection.ReadFrameAsync(Timeout);
            Assert.NotNull(good);
            Assert.Equal(12, BinaryPrimitives.ReadInt32BigEndian(good));
            Assert.Equal(0, PartitionError(good));
        }

        await stop.CancelAsync();
        var (produced, consumed) = await neighbour.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(produced > 0);
        Assert.Equal(produced, consumed);
        Assert.False(fixture.Broker.HasExited, "the broker must stay up");
        Assert.Contains("Closing connection from", fixture.Broker.Output);
        Assert.Empty(log.Problems);
    }

    [Fact]
    public async Task A_batch_whose_header_contradicts_its_records_gets_INVALID_RECORD_and_nothing_is_appended()
    {
        const string topic = "malformed-contradictions";
        using (var admin = new ClientLog().BuildAdmin(fixture.Broker.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        byte[][] contradictions =
        [
            Resigned(TestBatches.Build(3), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatch.RecordsCountOffset), 2)),
            Resigned(TestBatches.Build(3), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatch.RecordsCountOffset), 4)),
            Resigned(TestBatches.Build(1), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatch.RecordsCountOffset), 0)),
            // The first record claims one byte: its key length would lie outside it.
            Resigned(TestBatches.Build(3), b => b[RecordBatch.HeaderSize] = 2),
            // Three stray bytes after the last record.
            Resigned([.. TestBatches.Build(3), 0, 0, 0], b =>
                BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatch.LengthOffset), b.Length - RecordBatch.LogOverhead)),
        ];

        using var connection = await RawConnection.OpenAsync(Port);
        var correlationId = 20;
        foreach (var batch in contradictions)
        {
            await connection.SendAsync(RawConnection.Request(0, 3, ++correlationId, ProduceBody(topic, batch)));
            var refused = await connection.ReadFrameAsync(Timeout);
            Assert.NotNull(refused);
            Assert.Equal(87, PartitionError(refused));
        }

        await connection.SendAsync(RawConnection.Request(0, 3, ++correlationId, ProduceBody(topic, TestBatches.Build(3))));
        var accepted = await connection.ReadFrameAsync(Timeout);
        Assert.NotNull(accepted);
        Assert.Equal(0, PartitionError(accepted));
        Assert.Equal(0, BaseOffset(accepted));
    }

    /// <summary>Changes a batch and signs it again, so only the contradiction is wrong with it.</summary>
    private static byte[] Resigned(byte[] batch, Action<byte[]> change)
    {
        change(batch);
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(RecordBatch.CrcOffset),
            Crc32C.Compute(batch.AsSpan(RecordBatch.AttributesOffset)));
        return batch;
    }

    private async Task AssertClosedAsync(byte[] bytes, bool shutdownSend = false)
    {
        using var connection = await RawConnection.OpenAsync(Port);
        await connection.SendAsync(bytes);
        if (shutdownSend)
        {
            connection.ShutdownSend();
        }

        Assert.Null(await connection.ReadFrameAsync(Timeout));
    }

    /// <summary>Produce v3 body: null transactional id, acks=-1, timeout, one topic with partition 0.</summary>
    private static byte[] ProduceBody(string topic, byte[] batch)
    {
        var name = Encoding.UTF8.GetBytes(topic);
        var body = new byte[2 + 2 + 4 + 4 + 2 + name.Length + 4 + 4 + 4 + batch.Length];
        var span = body.AsSpan();
        BinaryPrimitives.WriteInt16BigEndian(span, -1);
        BinaryPrimitives.WriteInt16BigEndian(span[2..], -1);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], 5000);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], 1);
        BinaryPrimitives.WriteInt16BigEndian(span[12..], (short)name.Length);
        name.CopyTo(span[14..]);
        var at = 14 + name.Length;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], 1);
        BinaryPrimitives.WriteInt32BigEndian(span[(at + 4)..], 0);
        BinaryPrimitives.WriteInt32BigEndian(span[(at + 8)..], batch.Length);
        batch.CopyTo(span[(at + 12)..]);
        return body;
    }

    /// <summary>The error code of the single partition in a Produce v3 response.</summary>
    private static short PartitionError(byte[] response)
    {
        var nameLength = BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(8));
        return BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4 + 4 + 2 + nameLength + 4 + 4));
    }

    /// <summary>The base offset of the single partition in a Produce v3 response.</summary>
    private static long BaseOffset(byte[] response)
    {
        var nameLength = BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(8));
        return BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(4 + 4 + 2 + nameLength + 4 + 4 + 2));
    }

    /// <summary>Produces a message and reads it back, over and over on its own connections; returns how many went each way.</summary>
    private async Task<(int Produced, int Consumed)> WellBehavedTrafficAsync(ClientLog log, CancellationToken stop)
    {
        var bootstrap = fixture.Broker.BootstrapServers;
        using var producer = log.BuildProducer<Null, string>(log.Producer(bootstrap));
        using var consumer = log.BuildConsumer<Null, string>(log.Consumer(bootstrap, "malformed-neighbour-reader"));
        var start = consumer.QueryWatermarkOffsets(new TopicPartition(Topic, 0), Timeout).High;
        consumer.Assign(new TopicPartitionOffset(Topic, 0, start));
        var produced = 0;
        var consumed = 0;
        while (!stop.IsCancellationRequested || produced < 50)
        {
            var value = $"neighbour-{produced}";
            await producer.ProduceAsync(Topic, new Message<Null, string> { Value = value }, CancellationToken.None);
            produced++;
            using var deadline = new CancellationTokenSource(Timeout);
            while (consumer.Consume(deadline.Token).Message.Value != value)
            {
            }

            consumed++;
        }

        consumer.Close();
        return (produced, consumed);
    }
}
