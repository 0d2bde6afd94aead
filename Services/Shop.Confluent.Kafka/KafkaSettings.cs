using Confluent.Kafka;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Settings of a producer registered with <c>AddKafkaProducer</c>, bound from the <c>Kafka:Producer</c>
/// configuration section (librdkafka settings under <c>Kafka:Producer:Config</c>, e.g. <c>LingerMs</c>).
/// </summary>
public sealed class KafkaProducerSettings
{
    /// <summary>Bootstrap servers; <c>ConnectionStrings:{name}</c> takes precedence.</summary>
    public string? ConnectionString { get; set; }

    public ProducerConfig Config { get; } = new();

    public bool DisableHealthChecks { get; set; }

    /// <summary>When false, librdkafka statistics are published as metrics.</summary>
    public bool DisableMetrics { get; set; }
}

/// <summary>Settings of a consumer registered with <c>AddKafkaConsumer</c>, bound from <c>Kafka:Consumer</c>.</summary>
public sealed class KafkaConsumerSettings
{
    /// <summary>Bootstrap servers; <c>ConnectionStrings:{name}</c> takes precedence.</summary>
    public string? ConnectionString { get; set; }

    public ConsumerConfig Config { get; } = new();

    public bool DisableHealthChecks { get; set; }

    /// <summary>When false, librdkafka statistics are published as metrics.</summary>
    public bool DisableMetrics { get; set; }
}
