using Microsoft.Extensions.Logging.Abstractions;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class GroupCoordinatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "shop-kafka-unit", Guid.NewGuid().ToString("N"));
    private FlushScheduler _flusher = null!;
    private OffsetStore _offsets = null!;
    private GroupCoordinator _coordinator = null!;

    public Task InitializeAsync()
    {
        var options = new BrokerOptions { DataDir = _directory, GroupInitialRebalanceDelayMs = 0 };
        _flusher = new FlushScheduler(options, NullLogger<FlushScheduler>.Instance);
        _offsets = new OffsetStore(options, _flusher, NullLogger<OffsetStore>.Instance);
        _offsets.Load();
        _coordinator = new GroupCoordinator(options, _offsets, TimeProvider.System, NullLogger<GroupCoordinator>.Instance);
        _coordinator.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        await _flusher.DisposeAsync();
        _offsets.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static JoinGroupRequest Join(string memberId, string protocol = "range", int sessionTimeout = 10_000, byte metadata = 1) =>
        new("g", sessionTimeout, 5_000, memberId, null, "consumer", [new GroupProtocol(protocol, [metadata])], "client", "/127.0.0.1", RequireKnownMemberId: true);

    private async Task<string> JoinNewMemberAsync()
    {
        var first = await _coordinator.JoinAsync(Join(""));
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        Assert.StartsWith("client-", first.MemberId);
        return first.MemberId;
    }

    [Fact]
    public async Task Two_members_get_one_generation_one_leader_and_their_assignments()
    {
        var a = await JoinNewMemberAsync();
        var b = await JoinNewMemberAsync();
        var joinA = _coordinator.JoinAsync(Join(a));
        var joinB = _coordinator.JoinAsync(Join(b));
        var results = await Task.WhenAll(joinA, joinB).WaitAsync(Timeout);

        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.Equal(results[0].GenerationId, results[1].GenerationId);
        Assert.Equal("range", results[0].ProtocolName);
        var leader = results.Single(r => r.MemberId == r.LeaderId);
        var follower = results.Single(r => r.MemberId != r.LeaderId);
        Assert.Equal(2, leader.Members.Count);
        Assert.Empty(follower.Members);

        var followerSync = _coordinator.SyncAsync("g", follower.GenerationId, follower.MemberId, new Dictionary<string, byte[]>());
        Assert.False(followerSync.IsCompleted, "followers wait for the leader's assignments");
        var leaderSync = await _coordinator.SyncAsync("g", leader.GenerationId, leader.MemberId, new Dictionary<string, byte[]>
        {
            [leader.MemberId] = [1],
            [follower.MemberId] = [2],
        }).WaitAsync(Timeout);
        Assert.Equal([1], leaderSync.Assignment);
        Assert.Equal([2], (await followerSync.WaitAsync(Timeout)).Assignment);
        Assert.Equal("Stable", _coordinator.Describe("g").State);
        Assert.Equal(ErrorCode.None, _coordinator.Heartbeat("g", leader.GenerationId, leader.MemberId));
        Assert.Equal(ErrorCode.IllegalGeneration, _coordinator.Heartbeat("g", leader.GenerationId - 1, leader.MemberId));
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.Heartbeat("g", leader.GenerationId, "nobody"));
    }

    [Fact]
    public async Task A_generated_member_id_keeps_only_the_first_255_characters_of_a_long_client_id()
    {
        var longClientId = new string('c', 32_760);
        var joined = await _coordinator.JoinAsync(Join("") with { ClientId = longClientId });

        Assert.Equal(ErrorCode.MemberIdRequired, joined.Error);
        Assert.StartsWith(new string('c', 255) + "-", joined.MemberId);
        Assert.Equal(255 + 1 + 36, joined.MemberId.Length);
    }

    [Fact]
    public async Task A_leaving_member_makes_the_others_rejoin_through_heartbeat_errors()
    {
        var a = await JoinNewMemberAsync();
        var b = await JoinNewMemberAsync();
        var results = await Task.WhenAll(_coordinator.JoinAsync(Join(a)), _coordinator.JoinAsync(Join(b))).WaitAsync(Timeout);
        var leader = results.Single(r => r.MemberId == r.LeaderId);
        await _coordinator.SyncAsync("g", leader.GenerationId, leader.MemberId, new Dictionary<string, byte[]>()).WaitAsync(Timeout);

        Assert.Equal([ErrorCode.None], _coordinator.Leave("g", [(b, null)]));
        Assert.Equal(ErrorCode.RebalanceInProgress, _coordinator.Heartbeat("g", leader.GenerationId, a));
        var rejoin = await _coordinator.JoinAsync(Join(a)).WaitAsync(Timeout);
        Assert.Equal(leader.GenerationId + 1, rejoin.GenerationId);
        Assert.Single(rejoin.Members);
    }

    [Fact]
    public async Task An_expired_session_removes_the_member_and_an_empty_group_can_be_deleted()
    {
        var a = await JoinNewMemberAsync();
        var joined = await _coordinator.JoinAsync(Join(a, sessionTimeout: 1_000)).WaitAsync(Timeout);
        await _coordinator.SyncAsync("g", joined.GenerationId, a, new Dictionary<string, byte[]> { [a] = [9] }).WaitAsync(Timeout);
        Assert.Equal(ErrorCode.NonEmptyGroup, _coordinator.Delete("g"));

        var deadline = DateTime.UtcNow + Timeout;
        while (_coordinator.Describe("g").State != "Empty" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("Empty", _coordinator.Describe("g").State);
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.Heartbeat("g", joined.GenerationId, a));
        Assert.Equal(ErrorCode.None, _coordinator.Delete("g"));
        Assert.Equal("Dead", _coordinator.Describe("g").State);
    }

    [Fact]
    public async Task Members_without_a_common_protocol_are_refused()
    {
        var a = await JoinNewMemberAsync();
        var joined = await _coordinator.JoinAsync(Join(a, protocol: "range")).WaitAsync(Timeout);
        Assert.Equal(ErrorCode.None, joined.Error);
        var other = await _coordinator.JoinAsync(Join("", protocol: "cooperative-sticky"));
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, other.Error);
    }

    [Fact]
    public async Task Commits_are_fenced_by_generation_and_survive_a_reload()
    {
        var a = await JoinNewMemberAsync();
        var joined = await _coordinator.JoinAsync(Join(a)).WaitAsync(Timeout);
        await _coordinator.SyncAsync("g", joined.GenerationId, a, new Dictionary<string, byte[]>()).WaitAsync(Timeout);

        Assert.Equal(ErrorCode.IllegalGeneration, _coordinator.ValidateCommit("g", joined.GenerationId + 1, a));
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.ValidateCommit("g", joined.GenerationId, "stranger"));
        Assert.Equal(ErrorCode.None, _coordinator.ValidateCommit("g", joined.GenerationId, a));
        await _flusher.WaitDurableAsync(_offsets.Commit("g", [(new OffsetKey("t", 0), new CommittedOffset(42, 0, "m", 1))])).WaitAsync(Timeout);
        Assert.Equal(ErrorCode.None, _coordinator.ValidateCommit("simple", -1, ""));

        _offsets.Dispose();
        var options = new BrokerOptions { DataDir = _directory };
        var reloaded = new OffsetStore(options, _flusher, NullLogger<OffsetStore>.Instance);
        reloaded.Load();
        Assert.Equal(42, reloaded.Get("g", "t", 0)?.Offset);
        Assert.Equal("m", reloaded.Get("g", "t", 0)?.Metadata);
        reloaded.Dispose();
        _offsets = new OffsetStore(options, _flusher, NullLogger<OffsetStore>.Instance);
        _offsets.Load();
    }
}
