using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Shop.EventBus;

/// <summary>
/// Creates the bus's topics before they are first used, with the configured partition count. Creating a topic that
/// already exists is not an error, so every replica can do it at start. An existing topic keeps its partitions,
/// since adding some would move keys to other partitions and break their order; a warning says so.
/// </summary>
internal sealed partial class TopicManager(
    IProducer<string, byte[]> producer,
    IOptions<EventBusOptions> options,
    ILogger<TopicManager> logger)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, bool> _ready = new(StringComparer.Ordinal);

    /// <exception cref="KafkaException">The cluster could not be reached or refused a topic.</exception>
    public async Task EnsureAsync(IEnumerable<string> topics, CancellationToken cancellationToken)
    {
        var missing = topics.Where(topic => !_ready.ContainsKey(topic)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var settings = options.Value;
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        var existing = new List<string>();
        try
        {
            await admin.CreateTopicsAsync(
                missing.Select(topic => new TopicSpecification
                {
                    Name = topic,
                    NumPartitions = settings.TopicPartitions,
                    ReplicationFactor = settings.TopicReplicationFactor,
                }),
                new CreateTopicsOptions { RequestTimeout = RequestTimeout, OperationTimeout = RequestTimeout }).WaitAsync(cancellationToken);
            foreach (var topic in missing)
            {
                LogCreated(logger, topic, settings.TopicPartitions);
            }
        }
        catch (CreateTopicsException exception)
        {
            foreach (var result in exception.Results)
            {
                switch (result.Error.Code)
                {
                    case ErrorCode.NoError:
                        LogCreated(logger, result.Topic, settings.TopicPartitions);
                        break;
                    case ErrorCode.TopicAlreadyExists:
                        existing.Add(result.Topic);
                        break;
                    default:
                        throw new KafkaException(new Error(result.Error.Code, $"Could not create topic '{result.Topic}': {result.Error.Reason}"));
                }
            }
        }

        foreach (var topic in existing)
        {
            var metadata = admin.GetMetadata(topic, RequestTimeout).Topics.FirstOrDefault(t => t.Topic == topic);
            if (metadata is { Partitions.Count: var count } && count < settings.TopicPartitions)
            {
                LogFewerPartitions(logger, topic, count, settings.TopicPartitions);
            }
        }

        foreach (var topic in missing)
        {
            _ready[topic] = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topic {Topic} exists with {Partitions} partitions, fewer than the {Configured} configured; it is left as it is, so keys keep their partitions. At most {Partitions} consumers of a group share it.")]
    private static partial void LogFewerPartitions(ILogger logger, string topic, int partitions, int configured);
}
