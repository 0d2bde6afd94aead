using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Shop.EventBus;

/// <summary>
/// The partitions this replica's consumer holds, kept up to date by the rebalance callbacks (which librdkafka runs
/// inside <c>Consume</c>, between messages: a partition is never taken away while its message is being handled).
/// </summary>
internal sealed partial class ConsumerAssignment
{
    private readonly Lock _lock = new();
    private readonly HashSet<TopicPartition> _partitions = [];

    /// <summary>Set by the consumer before it subscribes; the callbacks only run after that.</summary>
    public ILogger? Logger { get; set; }

    public IReadOnlyCollection<TopicPartition> Partitions
    {
        get
        {
            lock (_lock)
            {
                return [.. _partitions];
            }
        }
    }

    public void Assigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        lock (_lock)
        {
            _partitions.UnionWith(partitions);
        }

        if (Logger is { } logger)
        {
            LogAssigned(logger, Describe(partitions));
        }
    }

    public void Revoked(IReadOnlyCollection<TopicPartition> partitions, bool lost)
    {
        lock (_lock)
        {
            _partitions.ExceptWith(partitions);
        }

        if (Logger is { } logger)
        {
            if (lost)
            {
                LogLost(logger, Describe(partitions));
            }
            else
            {
                LogRevoked(logger, Describe(partitions));
            }
        }
    }

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.GroupBy(p => p.Topic).Select(g => $"{g.Key}[{string.Join(",", g.Select(p => p.Partition.Value).Order())}]"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions assigned: {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}")]
    private static partial void LogRevoked(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partitions lost (the group moved on without this consumer): {Partitions}; their uncommitted messages will be redelivered")]
    private static partial void LogLost(ILogger logger, string partitions);
}
