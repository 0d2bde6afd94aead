using Microsoft.Extensions.Logging.Abstractions;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class PartitionLogTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N"));
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly BrokerOptions _options = new() { SegmentBytes = 4096 };
    private FlushScheduler _flusher = null!;

    public Task InitializeAsync()
    {
        _flusher = new FlushScheduler(_options, NullLogger<FlushScheduler>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _flusher.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private PartitionLog Open(TimeProvider? time = null, Action<Segment>? fsync = null, DirectoryWatch? directory = null, FlushScheduler? flusher = null)
    {
        var config = TopicConfig.Resolve(new Dictionary<string, string>(), _options);
        var log = new PartitionLog("t", 0, _directory, () => config, flusher ?? _flusher, time ?? TimeProvider.System, NullLogger.Instance)
        {
            Fsync = fsync ?? (static segment => segment.Flush()),
            FsyncDirectory = directory is null ? DirectorySync.Flush : directory.Fsync,
        };
        log.Open();
        return log;
    }

    /// <summary>
    /// The partition's fsync with an injected EIO. Only the flusher's fsyncs fail (rolls on the test thread
    /// succeed), and with <see cref="Hold"/> the failing one first waits until the test lets it go.
    /// </summary>
    private sealed class FailingDisk
    {
        public volatile bool Failing;
        public volatile bool FailOnce;
        public volatile bool Hold;
        public readonly SemaphoreSlim Entered = new(0);
        public readonly SemaphoreSlim Released = new(0);

        public void Fsync(Segment segment)
        {
            if (Failing && Thread.CurrentThread.Name == "kafka-flusher")
            {
                Failing = !FailOnce;
                if (Hold)
                {
                    Entered.Release();
                    Released.Wait();
                }

                throw new IOException("Input/output error");
            }

            segment.Flush();
        }
    }

    /// <summary>Every batch a consumer can read: producer id, base sequence and base offset.</summary>
    private static List<(long ProducerId, int BaseSequence, long BaseOffset)> ReadableBatches(PartitionLog log)
    {
        var batches = new List<(long, int, long)>();
        var header = new byte[RecordBatch.HeaderSize];
        for (var offset = log.LogStartOffset; offset < log.HighWatermark;)
        {
            var slice = log.Locate(offset);
            Assert.Equal(ErrorCode.None, slice.Error);
            slice.Segment!.Read(header, slice.Position);
            slice.Segment.Release();
            batches.Add((RecordBatch.ProducerId(header), RecordBatch.BaseSequence(header), RecordBatch.BaseOffset(header)));
            offset = RecordBatch.LastOffset(header) + 1;
        }

        return batches;
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static TopicConfig Config(BrokerOptions options) => TopicConfig.Resolve(new Dictionary<string, string>(), options);

    private async Task<long> AppendAsync(PartitionLog log, byte[] batch)
    {
        var result = log.Append(batch, Config(_options));
        Assert.Equal(ErrorCode.None, result.Error);
        await _flusher.WaitDurableAsync(result.Ticket);
        return result.BaseOffset;
    }

    [Fact]
    public async Task Appends_assign_consecutive_offsets_and_roll_segments()
    {
        var log = Open();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(i * 5, await AppendAsync(log, TestBatches.Build(5, valueSize: 100)));
        }

        Assert.Equal(250, log.HighWatermark);
        Assert.True(Directory.GetFiles(_directory, "*.log").Length > 1, "segment.bytes=4096 should have rolled segments");
        var slice = log.Locate(123);
        Assert.Equal(ErrorCode.None, slice.Error);
        var header = new byte[RecordBatch.HeaderSize];
        slice.Segment!.Read(header, slice.Position);
        slice.Segment.Release();
        Assert.Equal(120, RecordBatch.BaseOffset(header));
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Locate(251).Error);
        Assert.Null(log.Locate(250).Segment);
        log.Close();
    }

    [Fact]
    public async Task A_new_segment_is_synced_into_its_directory_before_a_batch_in_it_is_acknowledged()
    {
        var watch = new DirectoryWatch();
        var log = Open(directory: watch);
        var first = $"{0:D20}.log";
        Assert.Equal([(_directory, first)], watch.Synced);

        while (true)
        {
            var result = log.Append(TestBatches.Build(5, valueSize: 100), Config(_options));
            Assert.Equal(ErrorCode.None, result.Error);
            var segment = $"{result.BaseOffset:D20}.log";
            if (File.Exists(Path.Combine(_directory, segment)) && segment != first)
            {
                // Synced by the append that rolled, so before the flusher can release its ticket: with the new
                // segment, the sealed one's index and the producer snapshot in it.
                var (directory, names) = watch.Synced[^1];
                Assert.Equal(_directory, directory);
                Assert.Equal(DirectoryWatch.Names(_directory), names);
                Assert.Contains(segment, names.Split(' '));
                await _flusher.WaitDurableAsync(result.Ticket);
                break;
            }

            await _flusher.WaitDurableAsync(result.Ticket);
        }

        Assert.Equal(2, watch.Synced.Count);
        log.Close();
    }

    [Fact]
    public async Task Recovery_cuts_a_torn_tail_and_keeps_every_complete_batch()
    {
        var log = Open();
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync(log, TestBatches.Build(4));
        }

        log.Close();
        var last = Directory.GetFiles(_directory, "*.log").Order().Last();
        var torn = TestBatches.Build(4);
        await using (var file = new FileStream(last, FileMode.Append))
        {
            file.Write(torn.AsSpan(0, torn.Length / 2));
        }

        var reopened = Open();
        Assert.Equal(12, reopened.HighWatermark);
        Assert.Equal(12, await AppendAsync(reopened, TestBatches.Build(1)));
        reopened.Close();
    }

    [Fact]
    public async Task Recovery_cuts_at_the_first_batch_whose_crc_does_not_match()
    {
        var log = Open();
        for (var i = 0; i < 4; i++)
        {
            await AppendAsync(log, TestBatches.Build(2));
        }

        log.Close();
        var file = Directory.GetFiles(_directory, "*.log").Single();
        var bytes = await File.ReadAllBytesAsync(file);
        var batchSize = bytes.Length / 4;
        bytes[(2 * batchSize) + RecordBatch.HeaderSize + 3] ^= 0xFF;
        await File.WriteAllBytesAsync(file, bytes);

        var reopened = Open();
        Assert.Equal(4, reopened.HighWatermark);
        Assert.Equal(2 * batchSize, new FileInfo(file).Length);
        reopened.Close();
    }

    [Fact]
    public async Task Producer_state_survives_a_reopen_so_a_retried_batch_is_recognised()
    {
        var log = Open();
        var first = TestBatches.Build(3, producerId: 77, epoch: 0, baseSequence: 0);
        var second = TestBatches.Build(3, producerId: 77, epoch: 0, baseSequence: 3);
        await AppendAsync(log, [.. first]);
        var secondOffset = await AppendAsync(log, [.. second]);
        for (var i = 0; i < 30; i++)
        {
            await AppendAsync(log, TestBatches.Build(5, valueSize: 100));
        }

        log.Close();
        var reopened = Open();
        var retry = reopened.Append([.. second], Config(_options));
        Assert.Equal(ErrorCode.None, retry.Error);
        Assert.Equal(secondOffset, retry.BaseOffset);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, reopened.Append(TestBatches.Build(1, producerId: 77, epoch: 0, baseSequence: 9), Config(_options)).Error);
        Assert.Equal(ErrorCode.None, reopened.Append(TestBatches.Build(1, producerId: 77, epoch: 0, baseSequence: 6), Config(_options)).Error);
        Assert.Equal(ErrorCode.None, reopened.Append(TestBatches.Build(1, producerId: 77, epoch: 1, baseSequence: 0), Config(_options)).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, reopened.Append(TestBatches.Build(1, producerId: 77, epoch: 0, baseSequence: 7), Config(_options)).Error);
        Assert.Equal(ErrorCode.UnknownProducerId, reopened.Append(TestBatches.Build(1, producerId: 78, epoch: 0, baseSequence: 5), Config(_options)).Error);
        reopened.Close();
    }

    [Fact]
    public async Task Retention_by_size_deletes_whole_old_segments_only()
    {
        var watch = new DirectoryWatch();
        var log = Open(directory: watch);
        for (var i = 0; i < 40; i++)
        {
            await AppendAsync(log, TestBatches.Build(5, valueSize: 100));
        }

        var segmentsBefore = Directory.GetFiles(_directory, "*.log").Length;
        var deleted = log.ApplyRetention(Config(_options with { RetentionBytes = 8192 }), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(deleted > 0);
        Assert.Equal(segmentsBefore - deleted, Directory.GetFiles(_directory, "*.log").Length);
        Assert.Equal(DirectoryWatch.Names(_directory), watch.Synced[^1].Names);
        Assert.True(log.LogStartOffset > 0);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Locate(0).Error);
        Assert.Equal(200, log.HighWatermark);
        log.Close();
    }

    [Fact]
    public async Task Retention_by_time_deletes_sealed_segments_whose_newest_record_is_too_old()
    {
        var log = Open();
        var old = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeMilliseconds();
        for (var i = 0; i < 20; i++)
        {
            await AppendAsync(log, TestBatches.Build(5, baseTimestamp: old, valueSize: 100));
        }

        for (var i = 0; i < 20; i++)
        {
            await AppendAsync(log, TestBatches.Build(5, valueSize: 100));
        }

        var oneHour = Config(_options with { RetentionMs = 3_600_000 });
        var deleted = log.ApplyRetention(oneHour, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(deleted > 0);
        Assert.True(log.LogStartOffset is > 0 and <= 100, $"only the old records go (log starts at {log.LogStartOffset})");
        Assert.Equal(0, log.ApplyRetention(oneHour, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        log.Close();
    }

    [Fact]
    public async Task A_segment_older_than_segment_ms_rolls_on_the_next_append()
    {
        var clock = new ManualClock();
        var log = Open(clock);
        var config = TopicConfig.Resolve(new Dictionary<string, string> { [TopicConfig.SegmentMsKey] = "60000" }, _options);
        await _flusher.WaitDurableAsync(log.Append(TestBatches.Build(1), config).Ticket);
        clock.Now += TimeSpan.FromSeconds(30);
        await _flusher.WaitDurableAsync(log.Append(TestBatches.Build(1), config).Ticket);
        Assert.Single(Directory.GetFiles(_directory, "*.log"));

        clock.Now += TimeSpan.FromSeconds(31);
        await _flusher.WaitDurableAsync(log.Append(TestBatches.Build(1), config).Ticket);
        Assert.Equal(2, Directory.GetFiles(_directory, "*.log").Length);
        Assert.True(File.Exists(Path.Combine(_directory, $"{2:D20}.log")));
        log.Close();
    }

    [Fact]
    public async Task A_batch_whose_fsync_failed_is_never_readable_and_its_idempotent_retry_is_stored_once()
    {
        var disk = new FailingDisk { FailOnce = true };
        var log = Open(fsync: disk.Fsync);
        await AppendAsync(log, TestBatches.Build(2, producerId: 7, epoch: 0, baseSequence: 0));

        disk.Failing = true;
        var failed = log.Append(TestBatches.Build(3, producerId: 7, epoch: 0, baseSequence: 2), Config(_options));
        Assert.Equal(ErrorCode.None, failed.Error);
        await Assert.ThrowsAsync<IOException>(() => _flusher.WaitDurableAsync(failed.Ticket).WaitAsync(Timeout));

        // A retry of the batch that was on disk before is still a duplicate, and it is durable.
        var duplicate = log.Append(TestBatches.Build(2, producerId: 7, epoch: 0, baseSequence: 0), Config(_options));
        Assert.Equal((ErrorCode.None, 0L), (duplicate.Error, duplicate.BaseOffset));
        await _flusher.WaitDurableAsync(duplicate.Ticket).WaitAsync(Timeout);

        // The next fsync succeeds, but the high watermark must not move over the batch whose fsync failed.
        Assert.Equal(2, await AppendAsync(log, TestBatches.Build(1)));
        Assert.Equal(3, log.HighWatermark);
        Assert.Equal([(7, 0, 0), (-1, -1, 2)], ReadableBatches(log));

        // The producer retries: appended again, not answered as a duplicate of the dropped batch.
        var retry = log.Append(TestBatches.Build(3, producerId: 7, epoch: 0, baseSequence: 2), Config(_options));
        Assert.Equal(ErrorCode.None, retry.Error);
        Assert.Equal(3, retry.BaseOffset);
        await _flusher.WaitDurableAsync(retry.Ticket).WaitAsync(Timeout);
        List<(long, int, long)> expected = [(7, 0, 0), (-1, -1, 2), (7, 2, 3)];
        Assert.Equal(expected, ReadableBatches(log));
        log.Close();

        var reopened = Open();
        Assert.Equal(expected, ReadableBatches(reopened));
        var again = reopened.Append(TestBatches.Build(3, producerId: 7, epoch: 0, baseSequence: 2), Config(_options));
        Assert.Equal((ErrorCode.None, 3L), (again.Error, again.BaseOffset));
        reopened.Close();
    }

    [Fact]
    public async Task Appends_made_during_a_failed_fsync_are_dropped_with_the_segments_they_rolled_and_never_acknowledged()
    {
        var disk = new FailingDisk { FailOnce = true, Hold = true };
        var watch = new DirectoryWatch();
        var log = Open(fsync: disk.Fsync, directory: watch);
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync(log, TestBatches.Build(5, valueSize: 100));
        }

        var durableFiles = Directory.GetFiles(_directory).Order().ToArray();
        disk.Failing = true;
        var tickets = new List<long> { log.Append(TestBatches.Build(5, valueSize: 100), Config(_options)).Ticket };
        await disk.Entered.WaitAsync(Timeout);

        // While that fsync hangs, more appends roll a new segment; they would ride on the next (successful) round.
        for (var i = 0; i < 8; i++)
        {
            var result = log.Append(TestBatches.Build(5, valueSize: 100), Config(_options));
            Assert.Equal(ErrorCode.None, result.Error);
            tickets.Add(result.Ticket);
        }

        Assert.True(Directory.GetFiles(_directory, "*.log").Length > 1, "the appends should have rolled a segment");
        disk.Released.Release();
        foreach (var ticket in tickets)
        {
            await Assert.ThrowsAsync<IOException>(() => _flusher.WaitDurableAsync(ticket).WaitAsync(Timeout));
        }

        Assert.Equal(15, log.HighWatermark);
        Assert.Equal(15, log.LogEndOffset);
        Assert.Equal(durableFiles, Directory.GetFiles(_directory).Order().ToArray());
        Assert.Equal(DirectoryWatch.Names(_directory), watch.Synced[^1].Names);
        Assert.Equal(15, await AppendAsync(log, TestBatches.Build(5, valueSize: 100)));
        Assert.Equal([0L, 5, 10, 15], ReadableBatches(log).Select(b => b.BaseOffset));
        log.Close();

        var reopened = Open();
        Assert.Equal([0L, 5, 10, 15], ReadableBatches(reopened).Select(b => b.BaseOffset));
        reopened.Close();
    }

    [Fact]
    public async Task A_partition_whose_log_cannot_be_cut_back_goes_offline_until_reopened()
    {
        var disk = new FailingDisk();
        var log = Open(fsync: disk.Fsync);
        await AppendAsync(log, TestBatches.Build(2));

        disk.Failing = true;
        var failed = log.Append(TestBatches.Build(2), Config(_options));
        await Assert.ThrowsAsync<IOException>(() => _flusher.WaitDurableAsync(failed.Ticket).WaitAsync(Timeout));

        // The fsync after the cut failed as well, so nothing about the file can be trusted any more.
        Assert.True(log.Offline);
        Assert.Equal(ErrorCode.KafkaStorageError, log.Append(TestBatches.Build(1), Config(_options)).Error);
        Assert.Equal(ErrorCode.KafkaStorageError, log.Locate(0).Error);
        disk.Failing = false;
        Assert.Equal(ErrorCode.KafkaStorageError, log.Append(TestBatches.Build(1), Config(_options)).Error);
        log.Close();

        var reopened = Open();
        Assert.Equal(ErrorCode.None, reopened.Locate(0).Error);
        Assert.Equal(2, await AppendAsync(reopened, TestBatches.Build(1)));
        reopened.Close();
    }

    [Fact]
    public async Task Under_interval_flushing_a_failed_fsync_takes_the_partition_offline_until_reopened()
    {
        // The timer never fires during the test: it runs the flusher's rounds itself, on its own thread.
        await using var flusher = new FlushScheduler(_options with { Flush = FlushPolicy.Interval, FlushIntervalMs = 3_600_000 }, NullLogger<FlushScheduler>.Instance);

        // Only the next fsync fails: a cut-back's own fsync would succeed, so only the interval policy takes it offline.
        var failNext = false;
        var log = Open(fsync: segment =>
        {
            if (failNext)
            {
                failNext = false;
                throw new IOException("Input/output error");
            }

            segment.Flush();
        }, flusher: flusher);
        Assert.Equal(ErrorCode.None, log.Append(TestBatches.Build(2), Config(_options)).Error);
        flusher.FlushAll();

        // Readable at once, before any fsync: so when that fsync fails, a consumer may already have read them.
        Assert.Equal(ErrorCode.None, log.Append(TestBatches.Build(3), Config(_options)).Error);
        Assert.Equal(5, log.HighWatermark);
        failNext = true;
        flusher.FlushAll();

        Assert.True(log.Offline);
        Assert.Equal(ErrorCode.KafkaStorageError, log.Append(TestBatches.Build(1), Config(_options)).Error);
        Assert.Equal(ErrorCode.KafkaStorageError, log.Locate(0).Error);
        log.Close();

        // Start-up recovery trusts what is in the file (here all of it, as the injected error lost nothing).
        var reopened = Open();
        Assert.False(reopened.Offline);
        Assert.Equal([0L, 2], ReadableBatches(reopened).Select(b => b.BaseOffset));
        Assert.Equal(5, await AppendAsync(reopened, TestBatches.Build(1)));
        reopened.Close();
    }
}
