using System.Text.Json;

namespace Shop.EventBus;

/// <summary>Settings of the event bus, bound from the <c>EventBus</c> configuration section.</summary>
public sealed class EventBusOptions
{
    public const string SectionName = "EventBus";

    /// <summary>
    /// The consumer group the replicas of this service share (default: the application name). It also names the
    /// service's dead-letter topic, <c>{TopicPrefix}{GroupId}.dead-letter</c>.
    /// </summary>
    public string GroupId { get; set; } = "";

    /// <summary>Put before every topic name, e.g. <c>staging.</c> to share one cluster between environments.</summary>
    public string TopicPrefix { get; set; } = "";

    /// <summary>Partitions of the topics the bus creates: the most consumers of one group that can share a topic.</summary>
    public int TopicPartitions { get; set; } = 6;

    /// <summary>Replicas of each partition of the topics the bus creates; -1 takes the cluster's default.</summary>
    public short TopicReplicationFactor { get; set; } = -1;

    /// <summary>Outbox rows the relay publishes per round trip.</summary>
    public int RelayBatchSize { get; set; } = 100;

    /// <summary>
    /// How often the relay looks at the outbox when nothing woke it (commits in this process and notifications from
    /// other replicas wake it at once), and how often a standby replica tries to take over the relay.
    /// </summary>
    public TimeSpan RelayPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First delay before the relay retries a batch Kafka did not accept; it doubles up to <see cref="RelayMaxRetryDelay"/>.</summary>
    public TimeSpan RelayRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan RelayMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Messages one replica's consumer handles at the same time, each from a different partition (a partition's
    /// messages are always handled one after the other, in order).
    /// </summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>
    /// Lower limits for single topics, by name without <see cref="TopicPrefix"/>: messages of that topic handled at the
    /// same time, within <see cref="MaxConcurrency"/>. For a topic whose rare, cheap events come in bursts (a catalog
    /// import), 1 handles a burst on one database connection instead of opening one per partition.
    /// </summary>
    public Dictionary<string, int> TopicConcurrency { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Most messages of one partition handled in one transaction: those that queued up while the previous ones were
    /// handled. 1 handles every message in a transaction of its own.
    /// </summary>
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>Times a handler runs for one message before the message goes to the dead-letter topic.</summary>
    public int MaxDeliveryAttempts { get; set; } = 5;

    /// <summary>Delay before a failed handler's second attempt; it doubles per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long published outbox rows and inbox records are kept before the relay deletes them.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How often the leading relay deletes what outlived <see cref="Retention"/>. The first clean-up comes a minute
    /// after it takes the lead, or after this interval when that is shorter.
    /// </summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How events are written and read; unknown fields are ignored when reading.</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>The topic failed messages of this service's consumer group go to.</summary>
    public string DeadLetterTopic => $"{TopicPrefix}{GroupId}.dead-letter";
}
