using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Handlers;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class GroupHandlerTests : IAsyncLifetime
{
    private readonly BrokerOptions _options = new()
    {
        DataDir = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N")),
    };

    private volatile bool _failNextFsync;
    private volatile bool _keepFailing;
    private FlushScheduler _flusher = null!;
    private TopicStore _topics = null!;
    private OffsetStore _offsets = null!;
    private GroupCoordinator _coordinator = null!;
    private GroupHandler _handler = null!;

    public Task InitializeAsync()
    {
        _flusher = new FlushScheduler(_options, NullLogger<FlushScheduler>.Instance);
        _topics = new TopicStore(_options, _flusher, TimeProvider.System, NullLogger<TopicStore>.Instance);
        _topics.Load();
        Assert.Equal(ErrorCode.None, _topics.Create("t", 2, new Dictionary<string, string>()).Error);
        _offsets = new OffsetStore(_options, _flusher, NullLogger<OffsetStore>.Instance) { Fsync = Fsync };
        _offsets.Load();
        _coordinator = new GroupCoordinator(_options, _offsets, TimeProvider.System, NullLogger<GroupCoordinator>.Instance);
        _coordinator.Start();
        _handler = new GroupHandler(_options, new BrokerEndpoint(), _coordinator, _offsets, _flusher, _topics, TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        await _flusher.DisposeAsync();
        _offsets.Dispose();
        _topics.Dispose();
        Directory.Delete(_options.DataDir, recursive: true);
    }

    /// <summary>The offsets log's fsync, failing with EIO when the test asks: once, or from then on.</summary>
    private void Fsync(SafeFileHandle file)
    {
        if (_failNextFsync)
        {
            _failNextFsync = _keepFailing;
            throw new IOException("Input/output error");
        }

        RandomAccess.FlushToDisk(file);
    }

    [Fact]
    public async Task An_offset_commit_whose_fsync_failed_is_answered_with_a_retriable_error_and_never_fetched()
    {
        Assert.Equal(new[] { ErrorCode.None, ErrorCode.None }, await CommitAsync(5, 7));

        _failNextFsync = true;
        Assert.Equal(new[] { ErrorCode.CoordinatorNotAvailable, ErrorCode.CoordinatorNotAvailable }, await CommitAsync(9, 11));
        Assert.Equal([(5L, ErrorCode.None), (7L, ErrorCode.None)], Fetch());

        // The client's retry is stored.
        Assert.Equal(new[] { ErrorCode.None, ErrorCode.None }, await CommitAsync(9, 11));
        Assert.Equal([(9L, ErrorCode.None), (11L, ErrorCode.None)], Fetch());
    }

    [Fact]
    public async Task Offsets_that_could_not_be_rolled_back_are_never_fetched_and_commits_get_a_retriable_error()
    {
        Assert.Equal(new[] { ErrorCode.None, ErrorCode.None }, await CommitAsync(5, 7));

        _keepFailing = true;
        _failNextFsync = true;
        Assert.Equal(new[] { ErrorCode.CoordinatorNotAvailable, ErrorCode.CoordinatorNotAvailable }, await CommitAsync(9, 11));
        Assert.False(_offsets.Available);
        Assert.Equal([(-1L, ErrorCode.CoordinatorNotAvailable), (-1L, ErrorCode.CoordinatorNotAvailable)], Fetch());
        Assert.Equal(new[] { ErrorCode.CoordinatorNotAvailable, ErrorCode.CoordinatorNotAvailable }, await CommitAsync(9, 11));
    }

    /// <summary>OffsetCommit v2 of group "g" without a member (generation -1) for partitions 0 and 1 of "t"; the partitions' errors.</summary>
    private async Task<short[]> CommitAsync(long offset0, long offset1)
    {
        var body = new List<byte>();
        String(body, "g");
        Int32(body, -1);
        String(body, "");
        Int64(body, -1);
        Int32(body, 1);
        String(body, "t");
        Int32(body, 2);
        foreach (var (partition, offset) in new[] { (0, offset0), (1, offset1) })
        {
            Int32(body, partition);
            Int64(body, offset);
            String(body, "");
        }

        using var response = await Commit(body.ToArray());
        var answer = Answer(response!);
        Assert.Equal(1, answer.ReadArrayCount());
        Assert.Equal("t", answer.ReadString());
        var errors = new short[answer.ReadArrayCount()];
        for (var i = 0; i < errors.Length; i++)
        {
            Assert.Equal(i, answer.ReadInt32());
            errors[i] = answer.ReadInt16();
        }

        return errors;
    }

    /// <summary>OffsetFetch v1 of group "g" for partitions 0 and 1 of "t": each one's offset and error.</summary>
    private (long Offset, short Error)[] Fetch()
    {
        var body = new List<byte>();
        String(body, "g");
        Int32(body, 1);
        String(body, "t");
        Int32(body, 2);
        Int32(body, 0);
        Int32(body, 1);
        var bytes = body.ToArray();
        var reader = new KafkaReader(bytes);
        using var response = _handler.HandleOffsetFetch(Context(1), ref reader);
        var answer = Answer(response);
        Assert.Equal(1, answer.ReadArrayCount());
        Assert.Equal("t", answer.ReadString());
        var partitions = new (long, short)[answer.ReadArrayCount()];
        for (var i = 0; i < partitions.Length; i++)
        {
            Assert.Equal(i, answer.ReadInt32());
            var offset = answer.ReadInt64();
            answer.ReadNullableString();
            partitions[i] = (offset, answer.ReadInt16());
        }

        return partitions;
    }

    private ValueTask<ResponseWriter?> Commit(byte[] request)
    {
        var reader = new KafkaReader(request);
        return _handler.HandleOffsetCommit(Context(2), ref reader);
    }

    private static RequestContext Context(short version) => new(version, 1, "test", "127.0.0.1", CancellationToken.None);

    /// <summary>A reader positioned after the response's size and correlation id.</summary>
    private static KafkaReader Answer(ResponseWriter response)
    {
        var frame = response.Frame.Span;
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(frame[4..]));
        return new KafkaReader(frame, 8);
    }

    private static void String(List<byte> body, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        body.Add((byte)(bytes.Length >> 8));
        body.Add((byte)bytes.Length);
        body.AddRange(bytes);
    }

    private static void Int32(List<byte> body, int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        body.AddRange(bytes);
    }

    private static void Int64(List<byte> body, long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        body.AddRange(bytes);
    }
}
