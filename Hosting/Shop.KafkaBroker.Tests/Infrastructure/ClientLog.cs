using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>
/// Collects librdkafka's log lines (with protocol, broker, feature and cgrp debugging on) so a test can
/// assert the client never hit a protocol parse failure or an error talking to the broker.
/// </summary>
public sealed class ClientLog(Action<string>? onProblem = null)
{
    public const string DebugContexts = "protocol,broker,feature,cgrp";

    private readonly ConcurrentQueue<string> _problems = new();
    private long _lines;

    public long Lines => Interlocked.Read(ref _lines);

    public IReadOnlyCollection<string> Problems => _problems;

    public void Record(LogMessage message)
    {
        Interlocked.Increment(ref _lines);
        if (message.Message.Contains("Protocol parse failure", StringComparison.OrdinalIgnoreCase)
            || message.Message.Contains("Protocol read buffer underflow", StringComparison.OrdinalIgnoreCase))
        {
            var problem = $"{message.Name} {message.Facility}: {message.Message}";
            _problems.Enqueue(problem);
            onProblem?.Invoke(problem);
        }
    }

    public ProducerConfig Producer(string bootstrap, bool idempotent = true, CompressionType compression = CompressionType.None) => new()
    {
        BootstrapServers = bootstrap,
        Acks = Acks.All,
        EnableIdempotence = idempotent,
        CompressionType = compression,
        LingerMs = 5,
        Debug = DebugContexts,
    };

    public ConsumerConfig Consumer(string bootstrap, string groupId) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = groupId,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        Debug = DebugContexts,
    };

    public IProducer<TKey, TValue> BuildProducer<TKey, TValue>(ProducerConfig config) =>
        new ProducerBuilder<TKey, TValue>(config).SetLogHandler((_, m) => Record(m)).Build();

    public IConsumer<TKey, TValue> BuildConsumer<TKey, TValue>(ConsumerConfig config) =>
        new ConsumerBuilder<TKey, TValue>(config).SetLogHandler((_, m) => Record(m)).Build();

    public IAdminClient BuildAdmin(string bootstrap) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, Debug = DebugContexts })
            .SetLogHandler((_, m) => Record(m)).Build();
}
