using Microsoft.Extensions.Logging.Abstractions;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class PartitionLogTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N"));
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

    private PartitionLog Open(TimeProvider? time = null)
    {
        var config = TopicConfig.Resolve(new Dictionary<string, string>(), _options);
        var log = new PartitionLog("t", 0, _directory, () => config, _flusher, time ?? TimeProvider.System, NullLogger.Instance);
        log.Open();
        return log;
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
        var log = Open();
        for (var i = 0; i < 40; i++)
        {
            await AppendAsync(log, TestBatches.Build(5, valueSize: 100));
        }

        var segmentsBefore = Directory.GetFiles(_directory, "*.log").Length;
        var deleted = log.ApplyRetention(Config(_options with { RetentionBytes = 8192 }), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(deleted > 0);
        Assert.Equal(segmentsBefore - deleted, Directory.GetFiles(_directory, "*.log").Length);
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
}
