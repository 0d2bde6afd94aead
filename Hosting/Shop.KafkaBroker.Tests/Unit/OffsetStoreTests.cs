using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class OffsetStoreTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N"));
    private BrokerOptions _options = null!;
    private FlushScheduler _flusher = null!;

    public Task InitializeAsync()
    {
        _options = new BrokerOptions { DataDir = _directory };
        _flusher = new FlushScheduler(_options, NullLogger<FlushScheduler>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _flusher.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private OffsetStore Open(FailingDisk? disk = null)
    {
        var store = new OffsetStore(_options, _flusher, NullLogger<OffsetStore>.Instance)
        {
            Fsync = disk is null ? RandomAccess.FlushToDisk : disk.Fsync,
        };
        store.Load();
        return store;
    }

    /// <summary>The offsets log's fsync with an injected EIO: the next one only, or every one from the next on.</summary>
    private sealed class FailingDisk
    {
        public volatile bool FailNext;
        public volatile bool KeepFailing;

        public void Fsync(SafeFileHandle file)
        {
            if (FailNext)
            {
                FailNext = KeepFailing;
                throw new IOException("Input/output error");
            }

            RandomAccess.FlushToDisk(file);
        }
    }

    private static (OffsetKey, CommittedOffset) Commit(string topic, int partition, long offset) =>
        (new OffsetKey(topic, partition), new CommittedOffset(offset, 0, null, 1));

    [Fact]
    public async Task Repeated_commits_are_compacted_and_the_latest_offsets_survive_a_reload()
    {
        var store = Open();
        for (var batch = 0; batch < 120; batch++)
        {
            var commits = Enumerable.Range((batch * 100) + 1, 100).Select(i => Commit("t", i % 3, i)).ToList();
            await _flusher.WaitDurableAsync(store.Commit("g", commits));
        }

        store.Dispose();
        var file = Path.Combine(_directory, "offsets", "offsets.log");
        Assert.True(new FileInfo(file).Length < 12_000 * 20, $"the log should have been compacted, it has {new FileInfo(file).Length} bytes");

        var reloaded = Open();
        Assert.Equal(12_000, reloaded.Get("g", "t", 0)?.Offset);
        Assert.Equal(11_998, reloaded.Get("g", "t", 1)?.Offset);
        Assert.Equal(11_999, reloaded.Get("g", "t", 2)?.Offset);
        reloaded.Dispose();
    }

    [Fact]
    public void A_commit_too_long_for_the_log_is_refused_whole_instead_of_written_with_a_wrapped_length()
    {
        var store = Open();
        var tooLong = new string('\uFFFD', 11_000);
        IReadOnlyList<(OffsetKey, CommittedOffset)> commits =
            [Commit("t", 0, 5), (new OffsetKey("t", 1), new CommittedOffset(7, 0, tooLong, 1))];

        Assert.Throws<ArgumentException>(() => store.Commit("g", commits));
        Assert.Null(store.Get("g", "t", 0));
        store.Dispose();

        var reloaded = Open();
        Assert.Null(reloaded.Get("g", "t", 0));
        reloaded.Dispose();
    }

    [Fact]
    public async Task A_torn_tail_is_cut_and_group_deletion_is_remembered()
    {
        var store = Open();
        await _flusher.WaitDurableAsync(store.Commit("kept", [Commit("t", 0, 5)]));
        await _flusher.WaitDurableAsync(store.Commit("gone", [Commit("t", 0, 7)]));
        await _flusher.WaitDurableAsync(store.DeleteGroup("gone"));
        store.Dispose();

        var file = Path.Combine(_directory, "offsets", "offsets.log");
        await using (var stream = new FileStream(file, FileMode.Append))
        {
            stream.Write([0, 0, 0, 40, 1, 2, 3]);
        }

        var reloaded = Open();
        Assert.Equal(5, reloaded.Get("kept", "t", 0)?.Offset);
        Assert.Null(reloaded.Get("gone", "t", 0));
        Assert.Equal(["kept"], reloaded.GroupIds);
        await _flusher.WaitDurableAsync(reloaded.Commit("kept", [Commit("t", 0, 6)]));
        reloaded.Dispose();
        var again = Open();
        Assert.Equal(6, again.Get("kept", "t", 0)?.Offset);
        again.Dispose();
    }

    [Fact]
    public async Task Commits_whose_fsync_failed_are_rolled_back_and_later_commits_are_kept()
    {
        var disk = new FailingDisk();
        var store = Open(disk);
        await _flusher.WaitDurableAsync(store.Commit("g", [Commit("t", 0, 5)]));

        disk.FailNext = true;
        var failed = store.Commit("g", [Commit("t", 0, 9), Commit("t", 1, 3)]);
        await Assert.ThrowsAsync<IOException>(() => _flusher.WaitDurableAsync(failed));

        // What OffsetFetch serves is what a crash would leave.
        Assert.Equal(5, store.Get("g", "t", 0)?.Offset);
        Assert.Null(store.Get("g", "t", 1));
        Assert.True(store.Available);
        await _flusher.WaitDurableAsync(store.Commit("g", [Commit("t", 1, 4)]));
        store.Dispose();

        var reloaded = Open();
        Assert.Equal(5, reloaded.Get("g", "t", 0)?.Offset);
        Assert.Equal(4, reloaded.Get("g", "t", 1)?.Offset);
        reloaded.Dispose();
    }

    [Fact]
    public async Task An_offsets_log_that_cannot_be_rolled_back_refuses_commits_until_a_restart()
    {
        var disk = new FailingDisk();
        var store = Open(disk);
        await _flusher.WaitDurableAsync(store.Commit("g", [Commit("t", 0, 5)]));

        // The fsync after the cut fails as well.
        disk.KeepFailing = true;
        disk.FailNext = true;
        await Assert.ThrowsAsync<IOException>(() => _flusher.WaitDurableAsync(store.Commit("g", [Commit("t", 0, 9)])));

        Assert.False(store.Available);
        disk.FailNext = false;
        Assert.Throws<IOException>(() => store.Commit("g", [Commit("t", 0, 10)]));
        Assert.Throws<IOException>(() => store.DeleteGroup("g"));
        store.Dispose();

        var reloaded = Open();
        Assert.True(reloaded.Available);
        Assert.Equal(5, reloaded.Get("g", "t", 0)?.Offset);
        await _flusher.WaitDurableAsync(reloaded.Commit("g", [Commit("t", 0, 11)]));
        Assert.Equal(11, reloaded.Get("g", "t", 0)?.Offset);
        reloaded.Dispose();
    }
}
