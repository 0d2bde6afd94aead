using Shop.KafkaBroker.Security;

namespace Shop.KafkaBroker.Configuration;

public enum FlushPolicy
{
    /// <summary>fsync before acknowledging a produce (many requests share one fsync).</summary>
    Always,

    /// <summary>fsync every <see cref="BrokerOptions.FlushIntervalMs"/>; acknowledged data may be lost on power loss.</summary>
    Interval,
}

/// <summary>Broker settings, bound from the <c>KafkaBroker</c> configuration section (command line wins).</summary>
public sealed record BrokerOptions
{
    public const string SectionName = "KafkaBroker";

    public int Port { get; init; } = 9092;

    public string Host { get; init; } = "127.0.0.1";

    public string? AdvertisedHost { get; init; }

    public string DataDir { get; init; } = "kafka-data";

    public int NodeId { get; init; } = 1;

    /// <summary>Default topic retention.ms; -1 keeps data forever.</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 60 * 60 * 1000;

    /// <summary>Default topic retention.bytes per partition; -1 means no size limit.</summary>
    public long RetentionBytes { get; init; } = -1;

    public int SegmentBytes { get; init; } = 128 * 1024 * 1024;

    public FlushPolicy Flush { get; init; } = FlushPolicy.Always;

    public int FlushIntervalMs { get; init; } = 1000;

    public bool AutoCreateTopics { get; init; } = true;

    public int DefaultPartitions { get; init; } = 1;

    /// <summary>Each partition holds an open file, so one request must not create thousands of them.</summary>
    public int MaxPartitionsPerTopic { get; init; } = 1000;

    public int MaxRequestBytes { get; init; } = 100 * 1024 * 1024;

    public int MaxMessageBytes { get; init; } = 1024 * 1024 + 12;

    /// <summary>The most record bytes one fetch response carries (Kafka's fetch.max.bytes), whatever the client asks.</summary>
    public int FetchMaxBytes { get; init; } = 55 * 1024 * 1024;

    /// <summary>Open client connections at most (Kafka's max.connections); one more is closed as soon as it is accepted.</summary>
    public int MaxConnections { get; init; } = 1000;

    /// <summary>A connection with nothing read, written or pending for this long is closed (Kafka's connections.max.idle.ms).</summary>
    public int ConnectionsMaxIdleMs { get; init; } = 10 * 60 * 1000;

    /// <summary>With users, a connection that has not authenticated within this time is closed.</summary>
    public int SaslAuthenticationTimeoutMs { get; init; } = 10_000;

    public int GroupInitialRebalanceDelayMs { get; init; } = 300;

    public int GroupMinSessionTimeoutMs { get; init; } = 1000;

    public int GroupMaxSessionTimeoutMs { get; init; } = 30 * 60 * 1000;

    public int RetentionCheckIntervalMs { get; init; } = 30_000;

    /// <summary>SASL/PLAIN users and their write ACLs (<c>KafkaBroker:Sasl:Users</c>); none = an open PLAINTEXT listener.</summary>
    public IReadOnlyList<BrokerUser> Users { get; init; } = [];

    /// <summary>The host put in Metadata; clients connect to it after bootstrapping.</summary>
    public string EffectiveAdvertisedHost =>
        !string.IsNullOrWhiteSpace(AdvertisedHost) ? AdvertisedHost
        : Host is "0.0.0.0" or "::" or "[::]" or "*" ? "localhost"
        : Host;
}
