using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

/// <summary>Each test owns its broker: they stop, kill and restart it.</summary>
public sealed class DurabilityTests
{
    private const string Topic = "durable";
    private const int Partitions = 3;
    private const int MessageCount = 30_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public Task Sigkill_under_fsync_before_ack_loses_no_acknowledged_message_and_no_committed_offset() =>
        RestartWhileProducingAsync(crash: true, "--flush", "always");

    [Fact]
    public Task Graceful_restart_loses_no_acknowledged_message_and_no_committed_offset() =>
        RestartWhileProducingAsync(crash: false, "--flush", "interval", "--flush-interval-ms", "60000");

    /// <summary>
    /// An idempotent producer keeps producing while the broker goes down and comes back; a group commits
    /// offsets before. Afterwards every acknowledged message is in the log exactly once (retries across the
    /// restart are recognised as duplicates) and the committed offsets are as committed.
    /// </summary>
    private static async Task RestartWhileProducingAsync(bool crash, params string[] brokerArgs)
    {
        await using var broker = await BrokerProcess.StartAsync(brokerArgs);
        var log = new ClientLog();
        using (var admin = log.BuildAdmin(broker.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }

        var acknowledged = new ConcurrentDictionary<int, (int Partition, long Offset)>();
        var failed = 0;
        var config = log.Producer(broker.BootstrapServers);
        config.MessageTimeoutMs = 60_000;
        using var producer = log.BuildProducer<Null, string>(config);
        var producing = Task.Run(async () =>
        {
            for (var i = 0; i < MessageCount; i++)
            {
                var seq = i;
                producer.Produce(Topic, new Message<Null, string> { Value = seq.ToString(CultureInfo.InvariantCulture) }, report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.Increment(ref failed);
                    }
                    else
                    {
                        acknowledged[seq] = (report.Partition.Value, report.Offset.Value);
                    }
                });
                if (i % 100 == 99)
                {
                    await Task.Delay(10);
                }
            }
        });

        await Wait.UntilAsync(() => acknowledged.Count >= 2_000, Timeout, "the first acknowledgements");
        var committed = CommitHalfOfWhatIsThere(log, broker.BootstrapServers);

        var acknowledgedBeforeRestart = acknowledged.ToArray();
        if (crash)
        {
            await broker.CrashAsync();
        }
        else
        {
            await broker.StopAsync();
        }

        Assert.True(broker.HasExited);
        Assert.True(acknowledgedBeforeRestart.Length < MessageCount, "the broker must go down while the producer is still producing");
        await broker.RestartAsync();
        await producing.WaitAsync(Timeout);
        Assert.Equal(0, producer.Flush(Timeout));
        Assert.Equal(0, failed);
        Assert.Equal(MessageCount, acknowledged.Count);

        var stored = ReadEverything(log, broker.BootstrapServers);
        foreach (var (seq, position) in acknowledgedBeforeRestart)
        {
            Assert.True(stored.TryGetValue(position, out var value), $"acknowledged message {seq} at {position} is gone");
            Assert.Equal(seq.ToString(CultureInfo.InvariantCulture), value);
        }

        var values = stored.Values.ToList();
        Assert.Equal(MessageCount, values.Count);
        Assert.Equal(MessageCount, values.Distinct().Count());

        using var reader = log.BuildConsumer<Null, string>(log.Consumer(broker.BootstrapServers, "durable-committer"));
        var after = reader.Committed(committed.Keys.Select(p => new TopicPartition(Topic, p)), Timeout);
        foreach (var offset in after)
        {
            Assert.Equal(committed[offset.Partition.Value], offset.Offset.Value);
        }

        Assert.Empty(log.Problems);
    }

    /// <summary>A group member consumes what is there and commits, per partition, half of it.</summary>
    private static Dictionary<int, long> CommitHalfOfWhatIsThere(ClientLog log, string bootstrap)
    {
        using var consumer = log.BuildConsumer<Null, string>(log.Consumer(bootstrap, "durable-committer"));
        var commits = new Dictionary<int, long>();
        for (var p = 0; p < Partitions; p++)
        {
            var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), Timeout);
            commits[p] = watermarks.High.Value / 2;
        }

        consumer.Commit(commits.Select(c => new TopicPartitionOffset(Topic, c.Key, c.Value)));
        consumer.Close();
        return commits;
    }

    private static Dictionary<(int Partition, long Offset), string> ReadEverything(ClientLog log, string bootstrap)
    {
        using var consumer = log.BuildConsumer<Null, string>(log.Consumer(bootstrap, "durable-reader"));
        var ends = Enumerable.Range(0, Partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), Timeout).High.Value)
            .ToArray();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(Topic, p, Offset.Beginning)));
        var stored = new Dictionary<(int, long), string>();
        using var cancellation = new CancellationTokenSource(Timeout);
        while (stored.Count < ends.Sum())
        {
            var result = consumer.Consume(cancellation.Token);
            stored[(result.Partition.Value, result.Offset.Value)] = result.Message.Value;
        }

        consumer.Close();
        return stored;
    }
}
