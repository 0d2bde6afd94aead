using System.Diagnostics.Metrics;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Telemetry;

/// <summary>The broker's instruments (meter <c>Shop.KafkaBroker</c>).</summary>
public sealed class BrokerMetrics : IDisposable
{
    public const string MeterName = "Shop.KafkaBroker";

    private readonly Meter _meter;
    private readonly Counter<long> _bytesIn;
    private readonly Counter<long> _bytesOut;
    private readonly Counter<long> _recordsIn;
    private readonly Counter<long> _recordsOut;
    private readonly Counter<long> _produceRequests;
    private readonly Counter<long> _fetchRequests;
    private readonly UpDownCounter<long> _activeConnections;
    private readonly Counter<long> _rejectedRequests;

    public BrokerMetrics(IMeterFactory meterFactory, TopicStore topics, OffsetStore offsets)
    {
        _meter = meterFactory.Create(MeterName);
        _bytesIn = _meter.CreateCounter<long>("kafka.broker.bytes_in", "By", "Record batch bytes appended to partition logs.");
        _bytesOut = _meter.CreateCounter<long>("kafka.broker.bytes_out", "By", "Record batch bytes served to fetchers.");
        _recordsIn = _meter.CreateCounter<long>("kafka.broker.records_in", "{record}", "Records appended.");
        _recordsOut = _meter.CreateCounter<long>("kafka.broker.records_out", "{record}", "Records served to fetchers.");
        _produceRequests = _meter.CreateCounter<long>("kafka.broker.produce_requests", "{request}", "Produce requests handled.");
        _fetchRequests = _meter.CreateCounter<long>("kafka.broker.fetch_requests", "{request}", "Fetch requests handled.");
        _activeConnections = _meter.CreateUpDownCounter<long>("kafka.broker.active_connections", "{connection}", "Open client connections.");
        _rejectedRequests = _meter.CreateCounter<long>("kafka.broker.rejected_requests", "{request}", "Malformed or unsupported requests whose connection was closed.");
        _meter.CreateObservableGauge("kafka.consumer_group.lag", () => ObserveLag(topics, offsets), "{record}",
            "High watermark minus the committed offset, per group and partition.");
        _meter.CreateObservableGauge("kafka.partition.high_watermark", () => ObserveHighWatermarks(topics), "{offset}",
            "High watermark per partition.");
    }

    private static IEnumerable<Measurement<long>> ObserveLag(TopicStore topics, OffsetStore offsets)
    {
        foreach (var (group, key, offset) in offsets.Snapshot())
        {
            if (topics.Find(key.Topic)?.Partition(key.Partition) is { } log)
            {
                yield return new Measurement<long>(Math.Max(0, log.HighWatermark - offset),
                    new("group", group), new("topic", key.Topic), new("partition", key.Partition));
            }
        }
    }

    private static IEnumerable<Measurement<long>> ObserveHighWatermarks(TopicStore topics)
    {
        foreach (var topic in topics.Topics)
        {
            foreach (var log in topic.Partitions)
            {
                yield return new Measurement<long>(log.HighWatermark, new("topic", topic.Name), new("partition", log.Partition));
            }
        }
    }

    public void Produced(long bytes, long records)
    {
        _bytesIn.Add(bytes);
        _recordsIn.Add(records);
    }

    public void Fetched(long bytes, long records)
    {
        _bytesOut.Add(bytes);
        _recordsOut.Add(records);
    }

    public void ProduceRequest() => _produceRequests.Add(1);

    public void FetchRequest() => _fetchRequests.Add(1);

    public void ConnectionOpened() => _activeConnections.Add(1);

    public void ConnectionClosed() => _activeConnections.Add(-1);

    public void RequestRejected(string reason) => _rejectedRequests.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
