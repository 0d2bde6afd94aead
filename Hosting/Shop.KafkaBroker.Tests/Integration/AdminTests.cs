using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

[Collection(SharedBrokerCollection.Name)]
public sealed class AdminTests(SharedBrokerFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AdminClient_creates_describes_grows_and_deletes_topics()
    {
        var log = new ClientLog();
        using var admin = log.BuildAdmin(fixture.Broker.BootstrapServers);
        const string topic = "admin-orders";

        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic,
            NumPartitions = 4,
            ReplicationFactor = 1,
            Configs = new Dictionary<string, string> { ["retention.ms"] = "3600000", ["message.timestamp.type"] = "LogAppendTime" },
        }]);

        var duplicate = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, duplicate.Results.Single().Error.Code);
        var replicated = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-replicated", NumPartitions = 1, ReplicationFactor = 3 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, replicated.Results.Single().Error.Code);
        var badConfig = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-bad", NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["retention.ms"] = "soon" } }]));
        Assert.Equal(ErrorCode.InvalidConfig, badConfig.Results.Single().Error.Code);

        var metadata = admin.GetMetadata(topic, Timeout);
        Assert.Equal(4, metadata.Topics.Single().Partitions.Count);
        Assert.Equal(1, metadata.OriginatingBrokerId);

        var described = await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([topic]));
        Assert.Equal(4, described.TopicDescriptions.Single().Partitions.Count);

        var configs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }])).Single().Entries;
        Assert.Equal("3600000", configs["retention.ms"].Value);
        Assert.False(configs["retention.ms"].IsDefault);
        Assert.Equal("LogAppendTime", configs["message.timestamp.type"].Value);
        Assert.True(configs["segment.bytes"].IsDefault);
        var brokerConfigs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "1" }])).Single().Entries;
        Assert.Equal("true", brokerConfigs["auto.create.topics.enable"].Value);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 6 }]);
        Assert.Equal(6, admin.GetMetadata(topic, Timeout).Topics.Single().Partitions.Count);

        using (var producer = log.BuildProducer<Null, string>(log.Producer(fixture.Broker.BootstrapServers)))
        {
            var before = DateTime.UtcNow.AddSeconds(-1);
            var report = await producer.ProduceAsync(new TopicPartition(topic, 5), new Message<Null, string>
            {
                Value = "stamped by the broker",
                Timestamp = new Timestamp(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc)),
            });
            Assert.Equal(5, report.Partition.Value);
            using var consumer = log.BuildConsumer<Null, string>(log.Consumer(fixture.Broker.BootstrapServers, "admin-reader"));
            consumer.Assign(new TopicPartitionOffset(topic, 5, Offset.Beginning));
            var consumed = consumer.Consume(Timeout)!;
            Assert.Equal(TimestampType.LogAppendTime, consumed.Message.Timestamp.Type);
            Assert.True(consumed.Message.Timestamp.UtcDateTime >= before);
        }

        await admin.DeleteTopicsAsync([topic]);
        var afterDelete = admin.GetMetadata(Timeout).Topics.Select(t => t.Topic);
        Assert.DoesNotContain(topic, afterDelete);
        var missing = await Assert.ThrowsAsync<DeleteTopicsException>(() => admin.DeleteTopicsAsync([topic]));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, missing.Results.Single().Error.Code);
        Assert.Empty(log.Problems);
    }

    [Fact]
    public async Task AdminClient_lists_describes_and_deletes_consumer_groups()
    {
        var log = new ClientLog();
        var bootstrap = fixture.Broker.BootstrapServers;
        using var admin = log.BuildAdmin(bootstrap);
        const string topic = "admin-groups";
        const string groupId = "admin-listed-group";
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 1 }]);

        var consumer = log.BuildConsumer<Null, string>(log.Consumer(bootstrap, groupId));
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + Timeout;
        ConsumerGroupDescription group;
        do
        {
            consumer.Consume(TimeSpan.FromMilliseconds(100));
            group = (await admin.DescribeConsumerGroupsAsync([groupId])).ConsumerGroupDescriptions.Single();
        }
        while (group.State != ConsumerGroupState.Stable && DateTime.UtcNow < deadline);

        Assert.Equal(ConsumerGroupState.Stable, group.State);
        Assert.Equal("range", group.PartitionAssignor);
        var member = Assert.Single(group.Members);
        Assert.Equal(2, member.Assignment.TopicPartitions.Count);

        var listed = await admin.ListConsumerGroupsAsync();
        Assert.Contains(listed.Valid, g => g.GroupId == groupId && g.State == ConsumerGroupState.Stable);

        var busy = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync([groupId]));
        Assert.Equal(ErrorCode.NonEmptyGroup, busy.Results.Single().Error.Code);

        consumer.Close();
        consumer.Dispose();
        Assert.Equal(ConsumerGroupState.Empty, (await admin.DescribeConsumerGroupsAsync([groupId])).ConsumerGroupDescriptions.Single().State);
        await admin.DeleteGroupsAsync([groupId]);
        Assert.DoesNotContain((await admin.ListConsumerGroupsAsync()).Valid, g => g.GroupId == groupId);
        Assert.Empty(log.Problems);
    }
}
