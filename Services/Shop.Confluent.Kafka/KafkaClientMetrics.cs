using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;

namespace Shop.Confluent.Kafka;

/// <summary>
/// librdkafka's statistics (emitted every <c>statistics.interval.ms</c> as JSON) turned into instruments of
/// the <c>Shop.Confluent.Kafka</c> meter: network and message totals, queue depths and consumer lag, tagged
/// with the client's name. The latest statistics of each client are kept and read when metrics are collected.
/// </summary>
public sealed class KafkaClientMetrics : IDisposable
{
    public const string MeterName = "Shop.Confluent.Kafka";
    public const int DefaultStatisticsIntervalMs = 5000;

    private readonly ConcurrentDictionary<string, ClientStatistics> _clients = new(StringComparer.Ordinal);
    private readonly Meter _meter;

    private sealed record ClientStatistics(
        string Name,
        string Type,
        long Transmitted,
        long TransmittedBytes,
        long Received,
        long ReceivedBytes,
        long MessagesTransmitted,
        long MessageBytesTransmitted,
        long MessagesReceived,
        long MessageBytesReceived,
        long ProducerQueueMessages,
        long ProducerQueueBytes,
        long ReplyQueue,
        IReadOnlyList<(string Topic, int Partition, long Lag)> ConsumerLag);

    public KafkaClientMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        Counter("messaging.kafka.network.tx", "{request}", "Requests sent to brokers.", s => s.Transmitted);
        Counter("messaging.kafka.network.transmitted", "By", "Bytes sent to brokers.", s => s.TransmittedBytes);
        Counter("messaging.kafka.network.rx", "{response}", "Responses received from brokers.", s => s.Received);
        Counter("messaging.kafka.network.received", "By", "Bytes received from brokers.", s => s.ReceivedBytes);
        Counter("messaging.kafka.message.tx", "{message}", "Messages sent to brokers.", s => s.MessagesTransmitted);
        Counter("messaging.kafka.message.transmitted", "By", "Message bytes sent to brokers.", s => s.MessageBytesTransmitted);
        Counter("messaging.kafka.message.rx", "{message}", "Messages consumed from brokers.", s => s.MessagesReceived);
        Counter("messaging.kafka.message.received", "By", "Message bytes consumed from brokers.", s => s.MessageBytesReceived);
        Gauge("messaging.kafka.producer.queue.message_count", "{message}", "Messages waiting in the producer queue.", s => s.ProducerQueueMessages);
        Gauge("messaging.kafka.producer.queue.size", "By", "Bytes waiting in the producer queue.", s => s.ProducerQueueBytes);
        Gauge("messaging.kafka.consumer.queue.message_count", "{event}", "Events waiting to be served by poll.", s => s.ReplyQueue);
        _meter.CreateObservableGauge("messaging.kafka.consumer.lag", ObserveLag, "{message}",
            "Messages between the consumer's position and the partition's high watermark.");
    }

    private void Counter(string name, string unit, string description, Func<ClientStatistics, long> value) =>
        _meter.CreateObservableCounter(name, () => Observe(value), unit, description);

    private void Gauge(string name, string unit, string description, Func<ClientStatistics, long> value) =>
        _meter.CreateObservableGauge(name, () => Observe(value), unit, description);

    private IEnumerable<Measurement<long>> Observe(Func<ClientStatistics, long> value) =>
        _clients.Values.Select(s => new Measurement<long>(value(s),
            new KeyValuePair<string, object?>("messaging.client_id", s.Name),
            new KeyValuePair<string, object?>("messaging.kafka.client.type", s.Type)));

    private IEnumerable<Measurement<long>> ObserveLag() =>
        _clients.Values.SelectMany(s => s.ConsumerLag.Select(l => new Measurement<long>(l.Lag,
            new KeyValuePair<string, object?>("messaging.client_id", s.Name),
            new KeyValuePair<string, object?>("messaging.destination.name", l.Topic),
            new KeyValuePair<string, object?>("messaging.destination.partition.id", l.Partition))));

    /// <summary>Takes one statistics JSON document from librdkafka's statistics handler.</summary>
    public void Record(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        long Read(string name) => root.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : 0;

        var lag = new List<(string, int, long)>();
        if (root.TryGetProperty("topics", out var topics))
        {
            foreach (var topic in topics.EnumerateObject())
            {
                if (!topic.Value.TryGetProperty("partitions", out var partitions))
                {
                    continue;
                }

                foreach (var partition in partitions.EnumerateObject())
                {
                    if (int.TryParse(partition.Name, out var id) && id >= 0
                        && partition.Value.TryGetProperty("consumer_lag", out var consumerLag)
                        && consumerLag.TryGetInt64(out var value) && value >= 0)
                    {
                        lag.Add((topic.Name, id, value));
                    }
                }
            }
        }

        var name = root.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
        var type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        _clients[name] = new ClientStatistics(name, type, Read("tx"), Read("tx_bytes"), Read("rx"), Read("rx_bytes"),
            Read("txmsgs"), Read("txmsg_bytes"), Read("rxmsgs"), Read("rxmsg_bytes"), Read("msg_cnt"), Read("msg_size"), Read("replyq"), lag);
    }

    public void Dispose() => _meter.Dispose();
}
