using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Shop.EventBus;

/// <summary>
/// The partitions this replica's consumer holds, and the offsets it has handled but not committed yet. Everything
/// but <see cref="Partitions"/> runs on the consumer's thread: librdkafka calls the rebalance callbacks inside
/// <c>Consume</c>, between messages, so a partition is never taken away while its message is being handled.
/// </summary>
/// <remarks>
/// Offsets are committed only for handled messages, in small batches: at once when no further message is waiting,
/// otherwise after <see cref="MaxPending"/> messages or <see cref="MaxPendingAge"/>, and always before a partition is
/// given up or the consumer closes. A crash loses at most that batch's commits; those messages come again and the
/// inbox skips them.
/// </remarks>
internal sealed partial class ConsumerAssignment(TimeProvider timeProvider)
{
    public const int MaxPending = 100;
    public static readonly TimeSpan MaxPendingAge = TimeSpan.FromMilliseconds(200);

    private readonly Lock _lock = new();
    private readonly HashSet<TopicPartition> _partitions = [];
    private readonly Dictionary<TopicPartition, TopicPartitionOffset> _pending = [];
    private int _pendingMessages;
    private long _pendingSince;

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

    public bool HasPending => _pending.Count > 0;

    /// <summary>Whether the pending offsets are due for a commit even though more messages are waiting.</summary>
    public bool CommitDue => _pending.Count > 0 && (_pendingMessages >= MaxPending || timeProvider.GetElapsedTime(_pendingSince) >= MaxPendingAge);

    /// <summary>Records a message as handled: its offset may be committed from now on.</summary>
    public void Handled(ConsumeResult<string, byte[]> result)
    {
        if (_pending.Count == 0)
        {
            _pendingSince = timeProvider.GetTimestamp();
        }

        _pending[result.TopicPartition] = new TopicPartitionOffset(result.TopicPartition, result.Offset + 1);
        _pendingMessages++;
    }

    /// <summary>Commits the handled offsets (of the given partitions only, if named).</summary>
    public void Commit(IConsumer<string, byte[]> consumer, IReadOnlyCollection<TopicPartition>? only = null)
    {
        var offsets = only is null ? [.. _pending.Values] : _pending.Values.Where(o => only.Contains(o.TopicPartition)).ToList();
        if (offsets.Count == 0)
        {
            return;
        }

        foreach (var offset in offsets)
        {
            _pending.Remove(offset.TopicPartition);
        }

        if (_pending.Count == 0)
        {
            _pendingMessages = 0;
        }

        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException exception)
        {
            // Typically the group moved on: the messages come again and the inbox skips them.
            if (Logger is { } logger)
            {
                LogCommitFailed(logger, Describe(offsets.Select(o => o.TopicPartition)), exception.Error.Reason);
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

    /// <summary>Partitions given up in a rebalance: their handled offsets are committed first.</summary>
    public void Revoked(IConsumer<string, byte[]> consumer, IReadOnlyCollection<TopicPartition> partitions)
    {
        Commit(consumer, partitions);
        Remove(partitions);
        if (Logger is { } logger)
        {
            LogRevoked(logger, Describe(partitions));
        }
    }

    /// <summary>Partitions the group took away without this consumer (it was too slow to poll): nothing can be committed.</summary>
    public void Lost(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _pending.Remove(partition);
        }

        Remove(partitions);
        if (Logger is { } logger)
        {
            LogLost(logger, Describe(partitions));
        }
    }

    private void Remove(IReadOnlyCollection<TopicPartition> partitions)
    {
        lock (_lock)
        {
            _partitions.ExceptWith(partitions);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing the offsets of {Partitions} failed ({Reason}); those messages will be delivered again and skipped by the inbox")]
    private static partial void LogCommitFailed(ILogger logger, string partitions, string reason);
}
