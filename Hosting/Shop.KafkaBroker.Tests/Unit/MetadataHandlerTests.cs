using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Handlers;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class MetadataHandlerTests : IAsyncLifetime
{
    private readonly BrokerOptions _options = new()
    {
        DataDir = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N")),
        NodeId = 3,
    };

    private FlushScheduler _flusher = null!;

    public Task InitializeAsync()
    {
        _flusher = new FlushScheduler(_options, NullLogger<FlushScheduler>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _flusher.DisposeAsync();
        Directory.Delete(_options.DataDir, recursive: true);
    }

    /// <summary>One partition of a Metadata response; node lists are comma-separated so that records compare by value.</summary>
    private sealed record PartitionMetadata(short Error, int Partition, int Leader, string Replicas, string Isr, string Offline);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public async Task A_partition_taken_offline_by_a_storage_error_is_listed_without_a_leader(short version)
    {
        // Every fsync of partition 1 fails, the one after its cut-back too, so it goes offline; partition 0 stays healthy.
        var partitionOne = $"{Path.DirectorySeparatorChar}1{Path.DirectorySeparatorChar}";
        using var topics = new TopicStore(_options, _flusher, TimeProvider.System, NullLogger<TopicStore>.Instance)
        {
            Fsync = segment =>
            {
                if (segment.LogPath.Contains(partitionOne, StringComparison.Ordinal))
                {
                    throw new IOException("Input/output error");
                }

                segment.Flush();
            },
        };
        topics.Load();
        Assert.Equal(ErrorCode.None, topics.Create("t", 2, new Dictionary<string, string>()).Error);
        var topic = topics.Find("t")!;
        var append = topic.Partitions[1].Append(TestBatches.Build(1), topic.Config);
        await Assert.ThrowsAsync<IOException>(() => _flusher.WaitDurableAsync(append.Ticket));
        Assert.True(topic.Partitions[1].Offline);

        var partitions = RequestMetadata(topics, version, "t");

        var self = $"{_options.NodeId}";
        Assert.Equal(
            [
                new PartitionMetadata(ErrorCode.None, 0, _options.NodeId, self, self, ""),
                new PartitionMetadata(ErrorCode.LeaderNotAvailable, 1, -1, self, self, version >= 5 ? self : ""),
            ],
            partitions);
    }

    /// <summary>Sends a Metadata request for one topic through the handler and reads that topic's partitions back.</summary>
    private List<PartitionMetadata> RequestMetadata(TopicStore topics, short version, string name)
    {
        var request = new List<byte>();
        request.AddRange([0, 0, 0, 1]);
        request.AddRange([0, (byte)name.Length]);
        request.AddRange(Encoding.UTF8.GetBytes(name));
        if (version >= 4)
        {
            request.Add(0);
        }

        if (version >= 8)
        {
            request.AddRange([0, 0]);
        }

        var handler = new MetadataHandler(_options, new BrokerEndpoint { Port = 9092 }, topics, new ClusterIdentity(_options));
        var body = request.ToArray();
        var reader = new KafkaReader(body);
        using var response = handler.Handle(new RequestContext(version, 42, "test", "127.0.0.1", CancellationToken.None), ref reader);
        var frame = response.Frame.Span;
        Assert.Equal(frame.Length - 4, BinaryPrimitives.ReadInt32BigEndian(frame));

        var answer = new KafkaReader(frame, 4);
        Assert.Equal(42, answer.ReadInt32());
        if (version >= 3)
        {
            answer.ReadInt32();
        }

        Assert.Equal(1, answer.ReadArrayCount());
        Assert.Equal(_options.NodeId, answer.ReadInt32());
        answer.ReadString();
        answer.ReadInt32();
        if (version >= 1)
        {
            answer.ReadNullableString();
        }

        if (version >= 2)
        {
            answer.ReadNullableString();
        }

        if (version >= 1)
        {
            Assert.Equal(_options.NodeId, answer.ReadInt32());
        }

        Assert.Equal(1, answer.ReadArrayCount());
        Assert.Equal(ErrorCode.None, answer.ReadInt16());
        Assert.Equal(name, answer.ReadString());
        if (version >= 1)
        {
            Assert.False(answer.ReadBool());
        }

        var partitions = new List<PartitionMetadata>();
        for (var count = answer.ReadArrayCount(); partitions.Count < count;)
        {
            var error = answer.ReadInt16();
            var partition = answer.ReadInt32();
            var leader = answer.ReadInt32();
            if (version >= 7)
            {
                answer.ReadInt32();
            }

            var replicas = ReadNodes(ref answer);
            var isr = ReadNodes(ref answer);
            var offline = version >= 5 ? ReadNodes(ref answer) : "";
            partitions.Add(new PartitionMetadata(error, partition, leader, replicas, isr, offline));
        }

        if (version >= 8)
        {
            answer.ReadInt32();
            answer.ReadInt32();
        }

        Assert.Equal(0, answer.Remaining);
        return partitions;
    }

    private static string ReadNodes(ref KafkaReader reader)
    {
        var nodes = new int[reader.ReadArrayCount(4)];
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = reader.ReadInt32();
        }

        return string.Join(',', nodes);
    }
}
