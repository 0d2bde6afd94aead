using Microsoft.Extensions.Logging.Abstractions;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class TopicStoreTests : IAsyncLifetime
{
    private static readonly string LongestName = new('t', TopicStore.MaxTopicNameLength);
    private static readonly Dictionary<string, string> NoConfigs = [];
    private readonly BrokerOptions _options = new()
    {
        DataDir = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N")),
        MaxPartitionsPerTopic = 4,
    };

    private string TopicDirectory(string name) => Path.Combine(_options.DataDir, "topics", name);
    private FlushScheduler _flusher = null!;

    public Task InitializeAsync()
    {
        _flusher = new FlushScheduler(_options, NullLogger<FlushScheduler>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _flusher.DisposeAsync();
        Directory.Delete(_options.DataDir, recursive: true);
    }

    private TopicStore Load(DirectoryWatch? directory = null)
    {
        var store = new TopicStore(_options, _flusher, TimeProvider.System, NullLogger<TopicStore>.Instance)
        {
            FsyncDirectory = directory is null ? DirectorySync.Flush : directory.Fsync,
        };
        store.Load();
        return store;
    }

    private async Task AppendAsync(TopicStore store, string name)
    {
        var topic = store.Find(name)!;
        var result = topic.Partitions[0].Append(TestBatches.Build(3), topic.Config);
        Assert.Equal(ErrorCode.None, result.Error);
        await _flusher.WaitDurableAsync(result.Ticket);
    }

    [Fact]
    public async Task A_deleted_topic_with_the_longest_name_leaves_no_data_for_a_recreated_topic_or_a_restart()
    {
        using (var store = Load())
        {
            Assert.Equal(ErrorCode.None, store.Create(LongestName, 1, NoConfigs).Error);
            await AppendAsync(store, LongestName);

            Assert.Equal(ErrorCode.None, store.Delete(LongestName));
            Assert.Null(store.Find(LongestName));
            Assert.Equal(ErrorCode.None, store.Create(LongestName, 1, NoConfigs).Error);
            Assert.Equal(0, store.Find(LongestName)!.Partitions[0].LogEndOffset);
            Assert.Equal(ErrorCode.None, store.Delete(LongestName));
        }

        using var restarted = Load();
        Assert.Null(restarted.Find(LongestName));
    }

    [Fact]
    public async Task A_topic_whose_directory_cannot_be_moved_aside_answers_a_storage_error_and_stays_whole()
    {
        using var store = Load();
        Assert.Equal(ErrorCode.None, store.Create("kept", 1, NoConfigs).Error);
        await AppendAsync(store, "kept");
        // A file where the graveyard directory belongs makes the move fail.
        await File.WriteAllTextAsync(Path.Combine(_options.DataDir, "deleted"), "in the way");

        Assert.Equal(ErrorCode.KafkaStorageError, store.Delete("kept"));

        await AppendAsync(store, "kept");
        Assert.Equal(6, store.Find("kept")!.Partitions[0].LogEndOffset);
    }

    [Fact]
    public void Creating_growing_and_deleting_a_topic_sync_the_directories_they_change_before_answering()
    {
        var watch = new DirectoryWatch();
        using var store = Load(watch);
        var topics = Path.Combine(_options.DataDir, "topics");

        Assert.Equal(ErrorCode.None, store.Create("t", 2, NoConfigs).Error);
        Assert.Equal([(TopicDirectory("t"), "0 1 topic.json"), (topics, "t")], watch.Synced.TakeLast(2));

        Assert.Equal(ErrorCode.None, store.AddPartitions("t", 3, validateOnly: false).Error);
        Assert.Equal((TopicDirectory("t"), "0 1 2 topic.json"), watch.Synced[^1]);

        Assert.Equal(ErrorCode.None, store.Delete("t"));
        Assert.Equal((topics, ""), watch.Synced[^1]);
    }

    [Fact]
    public void Creating_or_growing_a_topic_beyond_max_partitions_per_topic_is_refused_naming_the_limit()
    {
        using var store = Load();
        var (error, message) = store.Create("wide", 5, NoConfigs);
        Assert.Equal(ErrorCode.InvalidPartitions, error);
        Assert.Contains("limit of 4", message);
        Assert.False(Directory.Exists(TopicDirectory("wide")));

        Assert.Equal(ErrorCode.None, store.Create("narrow", 4, NoConfigs).Error);
        Assert.Equal(ErrorCode.InvalidPartitions, store.AddPartitions("narrow", 5, validateOnly: false).Error);
        Assert.Equal(4, store.Find("narrow")!.Partitions.Length);
    }

    [Fact]
    public void A_topic_whose_partitions_cannot_all_be_created_is_rolled_back_whole()
    {
        using (var store = Load())
        {
            // A file where partition 2's directory belongs makes opening that partition fail.
            Directory.CreateDirectory(TopicDirectory("half"));
            File.WriteAllText(Path.Combine(TopicDirectory("half"), "2"), "in the way");
            Assert.Equal(ErrorCode.KafkaStorageError, store.Create("half", 3, NoConfigs).Error);
            Assert.Null(store.Find("half"));
            Assert.False(Directory.Exists(TopicDirectory("half")));

            Assert.Equal(ErrorCode.None, store.Create("growing", 2, NoConfigs).Error);
            File.WriteAllText(Path.Combine(TopicDirectory("growing"), "3"), "in the way");
            Assert.Equal(ErrorCode.KafkaStorageError, store.AddPartitions("growing", 4, validateOnly: false).Error);
            Assert.Equal(2, store.Find("growing")!.Partitions.Length);
            Assert.False(Directory.Exists(Path.Combine(TopicDirectory("growing"), "2")));
        }

        using var restarted = Load();
        Assert.Null(restarted.Find("half"));
        Assert.Equal(2, restarted.Find("growing")!.Partitions.Length);
    }
}
