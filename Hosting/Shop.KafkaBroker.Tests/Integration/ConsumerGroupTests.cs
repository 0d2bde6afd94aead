using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

[Collection(SharedBrokerCollection.Name)]
public sealed class ConsumerGroupTests(SharedBrokerFixture fixture)
{
    private const int Partitions = 6;
    private const int MessageCount = 3_000;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(45);

    [Theory]
    [InlineData(PartitionAssignmentStrategy.Range)]
    [InlineData(PartitionAssignmentStrategy.CooperativeSticky)]
    public async Task Three_members_join_one_leaves_one_is_killed_and_every_message_is_processed_exactly_once(PartitionAssignmentStrategy strategy)
    {
        var bootstrap = fixture.Broker.BootstrapServers;
        var topic = $"group-{strategy}".ToLowerInvariant();
        var groupId = $"{topic}-members";
        var log = new ClientLog();
        using var admin = log.BuildAdmin(bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);

        using var stopProducing = new CancellationTokenSource();
        var producing = Task.Run(() => Produce(log, bootstrap, topic, stopProducing.Token));

        var processed = new ConcurrentQueue<string>();
        var member = new GroupMember(bootstrap, topic, groupId, strategy, log);
        var stopA = false;
        var stopB = false;
        var countA = 0;
        var countB = 0;
        using var consumerA = member.Build();
        var consumerB = member.Build();
        var runA = Task.Factory.StartNew(() => member.Run(consumerA, v => { processed.Enqueue(v); Interlocked.Increment(ref countA); }, () => Volatile.Read(ref stopA)), TaskCreationOptions.LongRunning);
        var runB = Task.Factory.StartNew(() => member.Run(consumerB, v => { processed.Enqueue(v); Interlocked.Increment(ref countB); }, () => Volatile.Read(ref stopB)), TaskCreationOptions.LongRunning);
        using var memberC = new ChildGroupMember(bootstrap, topic, groupId, strategy.ToString(), processed);

        try
        {
            // All three joined: the group is stable with three members sharing all six partitions, and each processes.
            await WaitForGroupAsync(admin, groupId, members: 3);
            await Wait.UntilAsync(() => Volatile.Read(ref countA) > 0 && Volatile.Read(ref countB) > 0 && memberC.ProcessedCount > 0,
                StepTimeout, "all three members to process messages");

            // B leaves (LeaveGroup): the remaining two take over its partitions.
            Volatile.Write(ref stopB, true);
            await runB.WaitAsync(StepTimeout);
            consumerB.Close();
            consumerB.Dispose();
            await WaitForGroupAsync(admin, groupId, members: 2);
            var (beforeA, beforeC) = (Volatile.Read(ref countA), memberC.ProcessedCount);
            await Wait.UntilAsync(() => Volatile.Read(ref countA) > beforeA && memberC.ProcessedCount > beforeC,
                StepTimeout, "both remaining members to keep processing");

            // C is killed without leaving: its session expires and A ends up owning everything.
            await memberC.PauseAndKillAsync(StepTimeout);
            await WaitForGroupAsync(admin, groupId, members: 1);

            await stopProducing.CancelAsync();
            var produced = await producing.WaitAsync(StepTimeout);
            await Wait.UntilAsync(() => processed.Count >= produced, StepTimeout, $"all {produced} messages to be processed");

            var values = processed.ToList();
            var duplicates = values.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
            Assert.True(duplicates.Count == 0, $"processed twice: {string.Join(", ", duplicates)}");
            Assert.Equal(Enumerable.Range(0, produced).Select(i => i.ToString(CultureInfo.InvariantCulture)).Order(), values.Order());
            Assert.Empty(log.Problems);
            Assert.Empty(memberC.Problems);
        }
        finally
        {
            Volatile.Write(ref stopA, true);
            Volatile.Write(ref stopB, true);
            await Task.WhenAll(runA, runB).WaitAsync(StepTimeout);
            consumerA.Close();
        }
    }

    /// <summary>Produces numbered messages at a modest rate until stopped (at least <see cref="MessageCount"/>); returns how many.</summary>
    private static async Task<int> Produce(ClientLog log, string bootstrap, string topic, CancellationToken stop)
    {
        using var producer = log.BuildProducer<Null, string>(log.Producer(bootstrap));
        var sent = 0;
        while (!stop.IsCancellationRequested || sent < MessageCount)
        {
            for (var i = 0; i < 20; i++)
            {
                await producer.ProduceAsync(topic, new Message<Null, string> { Value = sent.ToString(CultureInfo.InvariantCulture) });
                sent++;
            }

            if (!stop.IsCancellationRequested)
            {
                await Task.Delay(20, CancellationToken.None);
            }
        }

        producer.Flush(StepTimeout);
        return sent;
    }

    private static async Task WaitForGroupAsync(IAdminClient admin, string groupId, int members)
    {
        var deadline = DateTime.UtcNow + StepTimeout;
        ConsumerGroupDescription? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var description = await admin.DescribeConsumerGroupsAsync([groupId]);
            last = description.ConsumerGroupDescriptions.Single();
            var assigned = last.Members.SelectMany(m => m.Assignment.TopicPartitions).ToList();
            if (last.State == ConsumerGroupState.Stable && last.Members.Count == members
                && assigned.Count == Partitions && assigned.Distinct().Count() == Partitions)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"group {groupId} did not become stable with {members} members owning all partitions; last seen {last?.State} with {last?.Members.Count} members");
    }
}
