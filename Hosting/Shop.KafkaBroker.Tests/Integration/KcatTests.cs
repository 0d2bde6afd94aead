using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

[Collection(SharedBrokerCollection.Name)]
public sealed class KcatTests(SharedBrokerFixture fixture)
{
    private const string ParseFailure = "Protocol parse failure";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);

    private string Bootstrap => fixture.Broker.BootstrapServers;

    [Fact]
    public async Task Kcat_lists_metadata_as_text_and_json()
    {
        await Kcat.RunAsync(Bootstrap, "k:v\n", "-P", "-t", "kcat-meta", "-K:");
        var (code, text, log) = await Kcat.RunAsync(Bootstrap, null, "-L");
        Assert.Equal(0, code);
        Assert.Contains($"broker 1 at {Bootstrap} (controller)", text);
        Assert.Contains("topic \"kcat-meta\" with 3 partitions", text);
        Assert.DoesNotContain(ParseFailure, log);
        Assert.Contains("ApiVersion", log);

        var (jsonCode, json, jsonLog) = await Kcat.RunAsync(Bootstrap, null, "-L", "-J");
        Assert.Equal(0, jsonCode);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(1, document.RootElement.GetProperty("controllerid").GetInt32());
        Assert.Equal(Bootstrap, document.RootElement.GetProperty("brokers")[0].GetProperty("name").GetString());
        var topic = document.RootElement.GetProperty("topics").EnumerateArray().Single(t => t.GetProperty("topic").GetString() == "kcat-meta");
        Assert.Equal(3, topic.GetProperty("partitions").GetArrayLength());
        Assert.DoesNotContain(ParseFailure, jsonLog);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Kcat_produces_idempotently_with_each_codec_and_consumes_and_queries_offsets(string codec)
    {
        var topic = $"kcat-{codec}";
        var lines = Enumerable.Range(0, 500).Select(i => $"key{i % 7}:value-{i}").ToList();
        var (produceCode, _, produceLog) = await Kcat.RunAsync(Bootstrap, string.Join('\n', lines) + "\n",
            "-P", "-t", topic, "-K:", "-z", codec, "-X", "enable.idempotence=true");
        Assert.True(produceCode == 0, produceLog[^Math.Min(2000, produceLog.Length)..]);
        Assert.DoesNotContain(ParseFailure, produceLog);

        var (consumeCode, consumed, consumeLog) = await Kcat.RunAsync(Bootstrap, null,
            "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k:%s\n");
        Assert.Equal(0, consumeCode);
        Assert.DoesNotContain(ParseFailure, consumeLog);
        var received = consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Order(), received.Order());
        foreach (var key in Enumerable.Range(0, 7).Select(k => $"key{k}:"))
        {
            Assert.Equal(lines.Where(l => l.StartsWith(key, StringComparison.Ordinal)), received.Where(l => l.StartsWith(key, StringComparison.Ordinal)));
        }

        var ends = 0L;
        for (var partition = 0; partition < 3; partition++)
        {
            var (queryCode, answer, queryLog) = await Kcat.RunAsync(Bootstrap, null, "-Q", "-t", $"{topic}:{partition}:-1");
            Assert.Equal(0, queryCode);
            Assert.DoesNotContain(ParseFailure, queryLog);
            ends += long.Parse(answer.Split("offset ")[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal(lines.Count, ends);
    }

    [Theory]
    [InlineData("range")]
    [InlineData("cooperative-sticky")]
    public async Task Two_kcat_group_members_share_a_topic(string strategy)
    {
        var topic = $"kcat-group-{strategy}";
        var groupId = $"kcat-{strategy}";
        var log = new ClientLog();
        using var admin = log.BuildAdmin(Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 4, ReplicationFactor = 1 }]);
        var messages = Enumerable.Range(0, 400).Select(i => $"m{i}").ToList();
        await Kcat.RunAsync(Bootstrap, string.Join('\n', messages) + "\n", "-P", "-t", topic);

        var received = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<string>();
        var members = Enumerable.Range(0, 2).Select(_ => StartMember(groupId, strategy, topic, received, errors)).ToList();
        try
        {
            await Wait.UntilAsync(() => received.Count >= messages.Count, Timeout, "both members to consume everything");
            var deadline = DateTime.UtcNow + Timeout;
            ConsumerGroupDescription group;
            do
            {
                group = (await admin.DescribeConsumerGroupsAsync([groupId])).ConsumerGroupDescriptions.Single();
                await Task.Delay(100);
            }
            while ((group.State != ConsumerGroupState.Stable || group.Members.Count != 2
                || group.Members.Any(m => m.Assignment.TopicPartitions.Count != 2)) && DateTime.UtcNow < deadline);

            Assert.Equal(ConsumerGroupState.Stable, group.State);
            Assert.Equal(strategy, group.PartitionAssignor);
            Assert.All(group.Members, m => Assert.Equal(2, m.Assignment.TopicPartitions.Count));
            Assert.Equal(messages.Order(), received.Order());
        }
        finally
        {
            foreach (var member in members)
            {
                member.Kill();
                await member.WaitForExitAsync();
                member.Dispose();
            }
        }

        Assert.DoesNotContain(errors, e => e.Contains(ParseFailure, StringComparison.Ordinal));
    }

    private Process StartMember(string groupId, string strategy, string topic, ConcurrentQueue<string> received, ConcurrentQueue<string> log)
    {
        var process = new Process
        {
            StartInfo = Kcat.StartInfo(Bootstrap, ["-u", "-G", groupId, "-X", $"partition.assignment.strategy={strategy}", "-X", "auto.offset.reset=earliest", "-f", "%s\n", topic]),
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                received.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                log.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
