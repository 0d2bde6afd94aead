namespace Shop.KafkaBroker.Groups;

public enum GroupState
{
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

public sealed record GroupProtocol(string Name, byte[] Metadata);

public sealed record JoinGroupRequest(
    string GroupId,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    string MemberId,
    string? GroupInstanceId,
    string ProtocolType,
    IReadOnlyList<GroupProtocol> Protocols,
    string ClientId,
    string ClientHost,
    bool RequireKnownMemberId);

public sealed record JoinGroupMember(string MemberId, string? GroupInstanceId, byte[] Metadata);

public sealed record JoinGroupResult(
    short Error,
    int GenerationId,
    string ProtocolName,
    string LeaderId,
    string MemberId,
    IReadOnlyList<JoinGroupMember> Members)
{
    public static JoinGroupResult Failed(short error, string memberId = "") => new(error, -1, "", "", memberId, []);
}

public sealed record SyncGroupResult(short Error, byte[] Assignment);

public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

public sealed record GroupDescription(short Error, string GroupId, string State, string ProtocolType, string Protocol, IReadOnlyList<GroupMemberDescription> Members);

/// <summary>A member of a classic consumer group; guarded by its group's lock.</summary>
internal sealed class GroupMember(string id, JoinGroupRequest request)
{
    public string Id { get; } = id;

    public string? GroupInstanceId { get; } = request.GroupInstanceId;

    public string ClientId { get; } = request.ClientId;

    public string ClientHost { get; } = request.ClientHost;

    public int SessionTimeoutMs { get; set; } = request.SessionTimeoutMs;

    public int RebalanceTimeoutMs { get; set; } = request.RebalanceTimeoutMs;

    public IReadOnlyList<GroupProtocol> Protocols { get; set; } = request.Protocols;

    public byte[] Assignment { get; set; } = [];

    public TaskCompletionSource<JoinGroupResult>? JoinWaiter { get; set; }

    public TaskCompletionSource<SyncGroupResult>? SyncWaiter { get; set; }

    public long SessionDeadline { get; set; }

    public byte[] MetadataFor(string protocol) => Protocols.FirstOrDefault(p => p.Name == protocol)?.Metadata ?? [];

    public bool SameProtocols(IReadOnlyList<GroupProtocol> protocols) =>
        protocols.Count == Protocols.Count
        && protocols.Zip(Protocols).All(pair => pair.First.Name == pair.Second.Name && pair.First.Metadata.AsSpan().SequenceEqual(pair.Second.Metadata));
}

/// <summary>The state of one group; every field is guarded by locking the group itself.</summary>
internal sealed class ConsumerGroup(string id)
{
    public string Id { get; } = id;

    public GroupState State { get; set; } = GroupState.Empty;

    public int Generation { get; set; }

    public string? ProtocolType { get; set; }

    public string? Protocol { get; set; }

    public string? LeaderId { get; set; }

    /// <summary>Members in join order (the first becomes leader when none is left).</summary>
    public List<GroupMember> Members { get; } = [];

    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED, with their expiry.</summary>
    public Dictionary<string, long> PendingMembers { get; } = [];

    /// <summary>When the join phase (or the initial delay) or the sync phase ends.</summary>
    public long PhaseDeadline { get; set; }

    public bool InInitialDelay { get; set; }

    /// <summary>The initial delay never extends past this (the first members' rebalance timeout).</summary>
    public long InitialDelayLimit { get; set; }

    public GroupMember? Find(string memberId) => Members.Find(m => m.Id == memberId);
}
