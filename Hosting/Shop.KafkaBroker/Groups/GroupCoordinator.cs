using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;

namespace Shop.KafkaBroker.Groups;

/// <summary>
/// The classic group protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) as Kafka's GroupCoordinator runs
/// it: Empty → PreparingRebalance → CompletingRebalance → Stable. The broker never looks inside
/// subscriptions or assignments; assignors run in the clients. All state of a group changes under that
/// group's lock, and one housekeeping loop drives the deadlines (session expiry, join and sync timeouts,
/// the initial rebalance delay), so timers never race with requests.
/// </summary>
public sealed partial class GroupCoordinator : IAsyncDisposable
{
    /// <summary>A member id travels in every group response as a 16-bit-length string; a client id can nearly fill one alone.</summary>
    private const int MaxClientIdInMemberId = 255;

    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentDictionary<string, ConsumerGroup> _groups = new(StringComparer.Ordinal);
    private readonly BrokerOptions _options;
    private readonly OffsetStore _offsets;
    private readonly TimeProvider _time;
    private readonly ILogger<GroupCoordinator> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;
    private Task _housekeeping = Task.CompletedTask;

    public GroupCoordinator(BrokerOptions options, OffsetStore offsets, TimeProvider time, ILogger<GroupCoordinator> logger)
    {
        _options = options;
        _offsets = offsets;
        _time = time;
        _logger = logger;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public void Start()
    {
        foreach (var groupId in _offsets.GroupIds)
        {
            _groups.TryAdd(groupId, new ConsumerGroup(groupId));
        }

        _housekeeping = Task.Run(HousekeepingLoopAsync);
    }

    public Task<JoinGroupResult> JoinAsync(JoinGroupRequest request)
    {
        if (string.IsNullOrEmpty(request.GroupId))
        {
            return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InvalidGroupId, request.MemberId));
        }

        if (request.SessionTimeoutMs < _options.GroupMinSessionTimeoutMs || request.SessionTimeoutMs > _options.GroupMaxSessionTimeoutMs)
        {
            return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InvalidSessionTimeout, request.MemberId));
        }

        var group = _groups.GetOrAdd(request.GroupId, id => new ConsumerGroup(id));
        lock (group)
        {
            if (group.State == GroupState.Dead)
            {
                return Task.FromResult(JoinGroupResult.Failed(ErrorCode.CoordinatorNotAvailable, request.MemberId));
            }

            if (request.Protocols.Count == 0 || string.IsNullOrEmpty(request.ProtocolType)
                || (group.Members.Count > 0 && (group.ProtocolType != request.ProtocolType || !SharesProtocol(group, request.Protocols))))
            {
                return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InconsistentGroupProtocol, request.MemberId));
            }

            if (request.MemberId.Length == 0)
            {
                var memberId = $"{request.ClientId[..Math.Min(request.ClientId.Length, MaxClientIdInMemberId)]}-{Guid.NewGuid()}";
                if (request.GroupInstanceId is { } instanceId)
                {
                    var previous = group.Members.Find(m => m.GroupInstanceId == instanceId);
                    if (previous is not null)
                    {
                        RemoveMember(group, previous, ErrorCode.UnknownMemberId);
                    }
                }
                else if (request.RequireKnownMemberId)
                {
                    group.PendingMembers[memberId] = Now + request.SessionTimeoutMs;
                    return Task.FromResult(JoinGroupResult.Failed(ErrorCode.MemberIdRequired, memberId));
                }

                return AddMember(group, memberId, request);
            }

            if (group.PendingMembers.Remove(request.MemberId))
            {
                return AddMember(group, request.MemberId, request);
            }

            var member = group.Find(request.MemberId);
            if (member is null || group.State == GroupState.Empty)
            {
                return Task.FromResult(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, request.MemberId));
            }

            var unchanged = member.SameProtocols(request.Protocols);
            if ((group.State == GroupState.CompletingRebalance && unchanged)
                || (group.State == GroupState.Stable && unchanged && member.Id != group.LeaderId))
            {
                member.SessionDeadline = Now + member.SessionTimeoutMs;
                return Task.FromResult(CurrentJoinResult(group, member));
            }

            member.Protocols = request.Protocols;
            member.SessionTimeoutMs = request.SessionTimeoutMs;
            member.RebalanceTimeoutMs = request.RebalanceTimeoutMs;
            var waiter = SetJoinWaiter(member);
            if (group.State != GroupState.PreparingRebalance)
            {
                PrepareRebalance(group, $"member {member.Id} rejoined");
            }

            TryCompleteJoin(group);
            return waiter;
        }
    }

    private static bool SharesProtocol(ConsumerGroup group, IReadOnlyList<GroupProtocol> protocols) =>
        protocols.Any(p => group.Members.All(m => m.Protocols.Any(mp => mp.Name == p.Name)));

    private Task<JoinGroupResult> AddMember(ConsumerGroup group, string memberId, JoinGroupRequest request)
    {
        var member = new GroupMember(memberId, request) { SessionDeadline = Now + request.SessionTimeoutMs };
        if (group.Members.Count == 0)
        {
            group.ProtocolType = request.ProtocolType;
        }

        group.Members.Add(member);
        var waiter = SetJoinWaiter(member);
        if (group.State != GroupState.PreparingRebalance)
        {
            PrepareRebalance(group, $"member {memberId} joined");
        }
        else if (group.InInitialDelay)
        {
            // As Kafka does: every member arriving during the initial delay extends it (within the
            // rebalance timeout), so a fleet starting together lands in one generation.
            group.PhaseDeadline = Math.Min(Now + _options.GroupInitialRebalanceDelayMs, group.InitialDelayLimit);
        }

        TryCompleteJoin(group);
        return waiter;
    }

    private static Task<JoinGroupResult> SetJoinWaiter(GroupMember member)
    {
        member.JoinWaiter?.TrySetResult(JoinGroupResult.Failed(ErrorCode.RebalanceInProgress, member.Id));
        member.JoinWaiter = new TaskCompletionSource<JoinGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        return member.JoinWaiter.Task;
    }

    private JoinGroupResult CurrentJoinResult(ConsumerGroup group, GroupMember member) =>
        new(ErrorCode.None, group.Generation, group.Protocol ?? "", group.LeaderId ?? "", member.Id,
            member.Id == group.LeaderId ? MemberList(group) : []);

    private static List<JoinGroupMember> MemberList(ConsumerGroup group) =>
        [.. group.Members.Select(m => new JoinGroupMember(m.Id, m.GroupInstanceId, m.MetadataFor(group.Protocol!)))];

    private void PrepareRebalance(ConsumerGroup group, string reason)
    {
        if (group.State == GroupState.CompletingRebalance)
        {
            foreach (var member in group.Members)
            {
                member.SyncWaiter?.TrySetResult(new SyncGroupResult(ErrorCode.RebalanceInProgress, []));
                member.SyncWaiter = null;
            }
        }

        var wasEmpty = group.State == GroupState.Empty;
        group.State = GroupState.PreparingRebalance;
        group.InInitialDelay = wasEmpty && _options.GroupInitialRebalanceDelayMs > 0;
        group.InitialDelayLimit = Now + group.Members.Select(m => m.RebalanceTimeoutMs).DefaultIfEmpty(0).Max();
        group.PhaseDeadline = Now + (group.InInitialDelay
            ? _options.GroupInitialRebalanceDelayMs
            : group.Members.Select(m => m.RebalanceTimeoutMs).DefaultIfEmpty(0).Max());
        LogRebalance(_logger, group.Id, group.Generation, reason);
    }

    private void TryCompleteJoin(ConsumerGroup group)
    {
        if (group.State != GroupState.PreparingRebalance || group.InInitialDelay)
        {
            return;
        }

        if (group.PendingMembers.Count == 0 && group.Members.TrueForAll(m => m.JoinWaiter is not null))
        {
            CompleteJoin(group);
        }
    }

    private void CompleteJoin(ConsumerGroup group)
    {
        foreach (var member in group.Members.Where(m => m.JoinWaiter is null).ToList())
        {
            LogMemberRemoved(_logger, member.Id, group.Id, "did not rejoin in time");
            group.Members.Remove(member);
        }

        group.Generation++;
        group.PendingMembers.Clear();
        if (group.Members.Count == 0)
        {
            group.State = GroupState.Empty;
            group.Protocol = null;
            group.LeaderId = null;
            LogGenerationEmpty(_logger, group.Id, group.Generation);
            return;
        }

        group.Protocol = SelectProtocol(group);
        if (group.LeaderId is null || group.Find(group.LeaderId) is null)
        {
            group.LeaderId = group.Members[0].Id;
        }

        group.State = GroupState.CompletingRebalance;
        var now = Now;
        group.PhaseDeadline = now + group.Members.Max(m => m.RebalanceTimeoutMs);
        foreach (var member in group.Members)
        {
            member.Assignment = [];
            member.SessionDeadline = now + member.SessionTimeoutMs;
            member.JoinWaiter!.TrySetResult(CurrentJoinResult(group, member));
            member.JoinWaiter = null;
        }

        LogGenerationStarted(_logger, group.Id, group.Generation, group.Members.Count, group.Protocol, group.LeaderId);
    }

    /// <summary>Each member votes for its most preferred protocol that every member supports.</summary>
    private static string SelectProtocol(ConsumerGroup group)
    {
        var candidates = group.Members[0].Protocols.Select(p => p.Name)
            .Where(name => group.Members.TrueForAll(m => m.Protocols.Any(p => p.Name == name)))
            .ToList();
        return group.Members
            .Select(m => m.Protocols.First(p => candidates.Contains(p.Name)).Name)
            .GroupBy(name => name)
            .OrderByDescending(votes => votes.Count())
            .ThenBy(votes => candidates.IndexOf(votes.Key))
            .First().Key;
    }

    public Task<SyncGroupResult> SyncAsync(string groupId, int generation, string memberId, IReadOnlyDictionary<string, byte[]> assignments)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            return Task.FromResult(new SyncGroupResult(ErrorCode.UnknownMemberId, []));
        }

        lock (group)
        {
            var member = group.Find(memberId);
            if (member is null || group.State is GroupState.Empty or GroupState.Dead)
            {
                return Task.FromResult(new SyncGroupResult(ErrorCode.UnknownMemberId, []));
            }

            if (generation != group.Generation)
            {
                return Task.FromResult(new SyncGroupResult(ErrorCode.IllegalGeneration, []));
            }

            member.SessionDeadline = Now + member.SessionTimeoutMs;
            switch (group.State)
            {
                case GroupState.PreparingRebalance:
                    return Task.FromResult(new SyncGroupResult(ErrorCode.RebalanceInProgress, []));
                case GroupState.Stable:
                    return Task.FromResult(new SyncGroupResult(ErrorCode.None, member.Assignment));
            }

            member.SyncWaiter = new TaskCompletionSource<SyncGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var waiter = member.SyncWaiter.Task;
            if (member.Id == group.LeaderId)
            {
                foreach (var each in group.Members)
                {
                    each.Assignment = assignments.GetValueOrDefault(each.Id) ?? [];
                }

                group.State = GroupState.Stable;
                foreach (var each in group.Members)
                {
                    each.SyncWaiter?.TrySetResult(new SyncGroupResult(ErrorCode.None, each.Assignment));
                    each.SyncWaiter = null;
                }

                LogStable(_logger, group.Id, group.Generation);
            }

            return waiter;
        }
    }

    public short Heartbeat(string groupId, int generation, string memberId)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            return ErrorCode.UnknownMemberId;
        }

        lock (group)
        {
            var member = group.Find(memberId);
            if (member is null || group.State is GroupState.Empty or GroupState.Dead)
            {
                return ErrorCode.UnknownMemberId;
            }

            if (generation != group.Generation)
            {
                return ErrorCode.IllegalGeneration;
            }

            member.SessionDeadline = Now + member.SessionTimeoutMs;
            return group.State == GroupState.PreparingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }
    }

    /// <summary>Removes members (by id, or by instance id when the id is empty); returns an error per member.</summary>
    public IReadOnlyList<short> Leave(string groupId, IReadOnlyList<(string MemberId, string? InstanceId)> leaving)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            return [.. leaving.Select(_ => ErrorCode.UnknownMemberId)];
        }

        lock (group)
        {
            var errors = new List<short>(leaving.Count);
            var removed = false;
            foreach (var (memberId, instanceId) in leaving)
            {
                if (group.PendingMembers.Remove(memberId))
                {
                    errors.Add(ErrorCode.None);
                    continue;
                }

                var member = memberId.Length > 0 ? group.Find(memberId) : group.Members.Find(m => m.GroupInstanceId == instanceId);
                if (member is null)
                {
                    errors.Add(ErrorCode.UnknownMemberId);
                    continue;
                }

                LogMemberRemoved(_logger, member.Id, group.Id, "left");
                RemoveMember(group, member, ErrorCode.UnknownMemberId);
                removed = true;
                errors.Add(ErrorCode.None);
            }

            if (removed)
            {
                RebalanceAfterRemoval(group, "member left");
            }

            return errors;
        }
    }

    private static void RemoveMember(ConsumerGroup group, GroupMember member, short error)
    {
        group.Members.Remove(member);
        member.JoinWaiter?.TrySetResult(JoinGroupResult.Failed(error, member.Id));
        member.SyncWaiter?.TrySetResult(new SyncGroupResult(error, []));
        member.JoinWaiter = null;
        member.SyncWaiter = null;
        if (group.LeaderId == member.Id)
        {
            group.LeaderId = null;
        }
    }

    private void RebalanceAfterRemoval(ConsumerGroup group, string reason)
    {
        if (group.State is GroupState.Stable or GroupState.CompletingRebalance)
        {
            PrepareRebalance(group, reason);
        }

        if (group.State == GroupState.PreparingRebalance)
        {
            if (group.Members.Count == 0)
            {
                group.InInitialDelay = false;
            }

            TryCompleteJoin(group);
        }
    }

    /// <summary>Validates a commit against the group's membership; returns the error code (0 = commit allowed).</summary>
    public short ValidateCommit(string groupId, int generation, string memberId)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            if (generation >= 0)
            {
                return ErrorCode.IllegalGeneration;
            }

            _groups.TryAdd(groupId, new ConsumerGroup(groupId));
            return ErrorCode.None;
        }

        lock (group)
        {
            if (group.State == GroupState.Dead)
            {
                return ErrorCode.CoordinatorNotAvailable;
            }

            if (generation < 0 && group.State == GroupState.Empty)
            {
                return ErrorCode.None;
            }

            if (group.State == GroupState.CompletingRebalance)
            {
                return ErrorCode.RebalanceInProgress;
            }

            var member = group.Find(memberId);
            if (member is null)
            {
                return ErrorCode.UnknownMemberId;
            }

            if (generation != group.Generation)
            {
                return ErrorCode.IllegalGeneration;
            }

            member.SessionDeadline = Now + member.SessionTimeoutMs;
            return ErrorCode.None;
        }
    }

    public IReadOnlyList<(string GroupId, string ProtocolType, string State)> ListGroups()
    {
        var groups = new List<(string, string, string)>();
        foreach (var group in _groups.Values)
        {
            lock (group)
            {
                if (group.State != GroupState.Dead)
                {
                    groups.Add((group.Id, group.ProtocolType ?? "", group.State.ToString()));
                }
            }
        }

        return groups;
    }

    public GroupDescription Describe(string groupId)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            return new GroupDescription(ErrorCode.None, groupId, nameof(GroupState.Dead), "", "", []);
        }

        lock (group)
        {
            var stable = group.State == GroupState.Stable;
            return new GroupDescription(ErrorCode.None, group.Id, group.State.ToString(), group.ProtocolType ?? "",
                stable ? group.Protocol ?? "" : "",
                [.. group.Members.Select(m => new GroupMemberDescription(m.Id, m.GroupInstanceId, m.ClientId, m.ClientHost,
                    stable ? m.MetadataFor(group.Protocol!) : [], stable ? m.Assignment : []))]);
        }
    }

    public short Delete(string groupId)
    {
        if (!_groups.TryGetValue(groupId, out var group))
        {
            return ErrorCode.GroupIdNotFound;
        }

        lock (group)
        {
            if (group.State != GroupState.Empty)
            {
                return group.State == GroupState.Dead ? ErrorCode.GroupIdNotFound : ErrorCode.NonEmptyGroup;
            }

            group.State = GroupState.Dead;
            _groups.TryRemove(groupId, out _);
        }

        if (_offsets.HasOffsets(groupId))
        {
            _offsets.DeleteGroup(groupId);
        }

        return ErrorCode.None;
    }

    private async Task HousekeepingLoopAsync()
    {
        using var timer = new PeriodicTimer(TickInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                var now = Now;
                foreach (var group in _groups.Values)
                {
                    lock (group)
                    {
                        Expire(group, now);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Expire(ConsumerGroup group, long now)
    {
        foreach (var (pendingId, deadline) in group.PendingMembers.ToList())
        {
            if (deadline <= now)
            {
                group.PendingMembers.Remove(pendingId);
            }
        }

        var expired = group.Members
            .Where(m => m.JoinWaiter is null && m.SyncWaiter is null && m.SessionDeadline <= now)
            .ToList();
        foreach (var member in expired)
        {
            LogMemberRemoved(_logger, member.Id, group.Id, "session timed out");
            RemoveMember(group, member, ErrorCode.UnknownMemberId);
        }

        if (expired.Count > 0)
        {
            RebalanceAfterRemoval(group, "session timeout");
        }

        if (group.PhaseDeadline > now)
        {
            TryCompleteJoin(group);
            return;
        }

        switch (group.State)
        {
            case GroupState.PreparingRebalance when group.InInitialDelay:
                group.InInitialDelay = false;
                group.PhaseDeadline = now + group.Members.Select(m => m.RebalanceTimeoutMs).DefaultIfEmpty(0).Max();
                TryCompleteJoin(group);
                break;
            case GroupState.PreparingRebalance:
                CompleteJoin(group);
                break;
            case GroupState.CompletingRebalance:
                foreach (var member in group.Members.Where(m => m.SyncWaiter is null).ToList())
                {
                    LogMemberRemoved(_logger, member.Id, group.Id, "did not sync in time");
                    RemoveMember(group, member, ErrorCode.UnknownMemberId);
                }

                PrepareRebalance(group, "sync timeout");
                TryCompleteJoin(group);
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Disposed by its owner and again by the service provider at shutdown: the second call has nothing to do.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _housekeeping;
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} preparing rebalance after generation {Generation}: {Reason}")]
    private static partial void LogRebalance(ILogger logger, string groupId, int generation, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} generation {Generation} with {Members} members, protocol {Protocol}, leader {LeaderId}")]
    private static partial void LogGenerationStarted(ILogger logger, string groupId, int generation, int members, string protocol, string leaderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} is empty at generation {Generation}")]
    private static partial void LogGenerationEmpty(ILogger logger, string groupId, int generation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} generation {Generation} is stable")]
    private static partial void LogStable(ILogger logger, string groupId, int generation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed member {MemberId} from group {GroupId}: {Reason}")]
    private static partial void LogMemberRemoved(ILogger logger, string memberId, string groupId, string reason);
}
