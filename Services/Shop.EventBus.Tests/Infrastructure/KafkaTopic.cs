using Confluent.Kafka;

namespace Shop.EventBus.Tests;

/// <summary>
/// Reads a topic as it is on the broker, with a plain Confluent.Kafka consumer outside any bus, signed in with the
/// librdkafka settings of <c>GetKafkaClientConfigAsync</c>.
/// </summary>
internal static class KafkaTopic
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How many messages the topic holds (the sum of its partitions' high watermarks; nothing is deleted here).</summary>
    public static long Count(IReadOnlyDictionary<string, string> kafka, string topic)
    {
        using var consumer = CreateConsumer(kafka);
        return Partitions(kafka, topic).Sum(p => consumer.QueryWatermarkOffsets(p, RequestTimeout).High.Value);
    }

    public static int PartitionCount(IReadOnlyDictionary<string, string> kafka, string topic) => Partitions(kafka, topic).Count;

    /// <summary>Every message of the topic, partition by partition in offset order.</summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(IReadOnlyDictionary<string, string> kafka, string topic)
    {
        using var consumer = CreateConsumer(kafka);
        var partitions = Partitions(kafka, topic);
        var ends = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, RequestTimeout).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var messages = new List<ConsumeResult<string, byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (messages.Count < ends.Values.Sum())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Read only {messages.Count} of {ends.Values.Sum()} messages of {topic}.");
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } result)
            {
                messages.Add(result);
            }
        }

        return [.. messages.OrderBy(m => m.Partition.Value).ThenBy(m => m.Offset.Value)];
    }

    private static List<TopicPartition> Partitions(IReadOnlyDictionary<string, string> kafka, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(kafka))).Build();
        var metadata = admin.GetMetadata(topic, RequestTimeout).Topics.Single(t => t.Topic == topic);
        Assert.True(metadata.Error.Code == ErrorCode.NoError, $"Topic {topic}: {metadata.Error.Reason}");
        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId))];
    }

    private static IConsumer<string, byte[]> CreateConsumer(IReadOnlyDictionary<string, string> kafka) =>
        new ConsumerBuilder<string, byte[]>(new ConsumerConfig(new Dictionary<string, string>(kafka))
        {
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AllowAutoCreateTopics = false,
        }).SetLogHandler((_, _) => { }).Build();

    public static string? Header(this ConsumeResult<string, byte[]> result, string name) =>
        result.Message.Headers is { } headers && headers.TryGetLastBytes(name, out var value) ? System.Text.Encoding.UTF8.GetString(value) : null;
}
