using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.KafkaBench;

public static class Scenarios
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>Producer throughput: acks=all, linger as given, as fast as the client's queue allows.</summary>
    public static async Task<string> ProduceAsync(BenchOptions options)
    {
        await EnsureTopicAsync(options);
        var config = new ProducerConfig
        {
            BootstrapServers = options.Bootstrap,
            Acks = Acks.All,
            LingerMs = options.LingerMs,
            QueueBufferingMaxMessages = 500_000,
        };
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var payload = new byte[options.Size];
        Random.Shared.NextBytes(payload);
        var message = new Message<Null, byte[]> { Value = payload };
        long failed = 0;
        Action<DeliveryReport<Null, byte[]>> onDelivery = report =>
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref failed);
            }
        };

        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < options.Count; i++)
        {
            while (true)
            {
                try
                {
                    producer.Produce(options.Topic, message, onDelivery);
                    break;
                }
                catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }

        producer.Flush(Timeout);
        stopwatch.Stop();
        var rate = options.Count / stopwatch.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"messages={options.Count} failed={failed} seconds={stopwatch.Elapsed.TotalSeconds:0.00} msg_per_s={rate:0} mb_per_s={rate * options.Size / 1048576:0.0}");
    }

    /// <summary>Consumer throughput: reads the topic from the beginning until it has <c>--count</c> messages.</summary>
    public static string Consume(BenchOptions options)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.Bootstrap,
            GroupId = $"bench-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            // librdkafka 2.x pauses fetching for fetch.queue.backoff.ms (default 1000) whenever its prefetch
            // queue is full; at these rates that idles the consumer for most of each second, whatever the
            // broker does. run.sh measures both this default and 10 ms.
            FetchQueueBackoffMs = options.FetchQueueBackoffMs,
        };
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
        consumer.Assign(Enumerable.Range(0, options.Partitions).Select(p => new TopicPartitionOffset(options.Topic, p, Offset.Beginning)));
        using var cancellation = new CancellationTokenSource(Timeout);
        var first = consumer.Consume(cancellation.Token);
        var stopwatch = Stopwatch.StartNew();
        long bytes = first.Message.Value.Length;
        for (var received = 1; received < options.Count; received++)
        {
            bytes += consumer.Consume(cancellation.Token).Message.Value.Length;
        }

        stopwatch.Stop();
        consumer.Close();
        var rate = (options.Count - 1) / stopwatch.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"messages={options.Count} fetch_queue_backoff_ms={options.FetchQueueBackoffMs} seconds={stopwatch.Elapsed.TotalSeconds:0.00} msg_per_s={rate:0} mb_per_s={bytes / stopwatch.Elapsed.TotalSeconds / 1048576:0.0}");
    }

    /// <summary>
    /// Produce-to-consume latency at 1,000 messages per second: each message carries its send time (this
    /// process's monotonic clock) and a consumer in the same process measures when it arrives.
    /// </summary>
    public static async Task<string> LatencyAsync(BenchOptions options)
    {
        await EnsureTopicAsync(options);
        var total = options.Seconds * 1000;
        var latencies = new double[total];
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = options.Bootstrap,
            GroupId = $"bench-latency-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 500,
        }).Build();
        var starts = new List<TopicPartitionOffset>();
        using (var probe = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = options.Bootstrap, GroupId = "bench-probe" }).Build())
        {
            for (var p = 0; p < options.Partitions; p++)
            {
                starts.Add(new TopicPartitionOffset(options.Topic, p, probe.QueryWatermarkOffsets(new TopicPartition(options.Topic, p), Timeout).High));
            }
        }

        consumer.Assign(starts);
        var receiving = Task.Factory.StartNew(() =>
        {
            using var cancellation = new CancellationTokenSource(Timeout);
            for (var received = 0; received < total;)
            {
                var result = consumer.Consume(cancellation.Token);
                var sent = BinaryPrimitives.ReadInt64LittleEndian(result.Message.Value);
                var index = BinaryPrimitives.ReadInt32LittleEndian(result.Message.Value.AsSpan(8));
                if (index >= 0)
                {
                    latencies[index] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    received++;
                }
            }
        }, TaskCreationOptions.LongRunning);

        await Task.Delay(1000);
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = options.Bootstrap,
            Acks = Acks.All,
            LingerMs = options.LingerMs,
        }).Build();
        // One unmeasured message first, so connection setup is not counted as latency.
        var warmUp = new byte[Math.Max(options.Size, 12)];
        BinaryPrimitives.WriteInt32LittleEndian(warmUp.AsSpan(8), -1);
        await producer.ProduceAsync(options.Topic, new Message<Null, byte[]> { Value = warmUp });
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < i)
            {
                Thread.Sleep(1);
            }

            var value = new byte[Math.Max(options.Size, 12)];
            BinaryPrimitives.WriteInt64LittleEndian(value, Stopwatch.GetTimestamp());
            BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(8), i);
            producer.Produce(options.Topic, new Message<Null, byte[]> { Value = value });
        }

        producer.Flush(Timeout);
        await receiving;
        Array.Sort(latencies);
        double Percentile(double p) => latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(p * latencies.Length) - 1)];
        return string.Create(CultureInfo.InvariantCulture,
            $"messages={total} rate_per_s=1000 linger_ms={options.LingerMs} p50_ms={Percentile(0.50):0.00} p99_ms={Percentile(0.99):0.00} max_ms={latencies[^1]:0.00}");
    }

    private static async Task EnsureTopicAsync(BenchOptions options)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = options.Bootstrap }).Build();
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = options.Topic, NumPartitions = options.Partitions, ReplicationFactor = 1 }]);
        }
        catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
        {
        }
    }
}
