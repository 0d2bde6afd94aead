using Confluent.Kafka;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>
/// A consumer-group member with manual commits that counts a message as processed only once its offset
/// commit succeeded. A failed commit (the group is rebalancing) rewinds to the message if the partition is
/// still ours, or leaves it to the partition's next owner, which starts from the last commit. So across
/// any rebalance every message is processed exactly once, provided the broker fences generations right.
/// </summary>
public sealed class GroupMember(string bootstrap, string topic, string groupId, PartitionAssignmentStrategy strategy, ClientLog log)
{
    public IConsumer<Ignore, string> Build() => log.BuildConsumer<Ignore, string>(Config());

    public ConsumerConfig Config()
    {
        var config = log.Consumer(bootstrap, groupId);
        config.PartitionAssignmentStrategy = strategy;
        config.SessionTimeoutMs = 3000;
        config.HeartbeatIntervalMs = 300;
        config.MaxPollIntervalMs = 30_000;
        return config;
    }

    /// <summary>Consumes until <paramref name="stop"/>; <paramref name="processed"/> sees each committed message's value.</summary>
    public void Run(IConsumer<Ignore, string> consumer, Action<string> processed, Func<bool> stop)
    {
        consumer.Subscribe(topic);
        while (!stop())
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }

            try
            {
                consumer.Commit(result);
            }
            catch (KafkaException)
            {
                if (consumer.Assignment.Contains(result.TopicPartition))
                {
                    consumer.Seek(result.TopicPartitionOffset);
                }

                continue;
            }

            processed(result.Message.Value);
        }
    }
}
