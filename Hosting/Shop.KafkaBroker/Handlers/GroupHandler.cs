using System.Text;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Handlers;

/// <summary>Group coordination APIs: FindCoordinator, the classic membership protocol, offsets and group administration.</summary>
public sealed class GroupHandler(
    BrokerOptions options,
    BrokerEndpoint endpoint,
    GroupCoordinator coordinator,
    OffsetStore offsets,
    FlushScheduler flusher,
    TopicStore topics,
    TimeProvider time)
{
    private const sbyte GroupKeyType = 0;

    /// <summary>Kafka's offset.metadata.max.bytes default; like Kafka it counts characters of the decoded string.</summary>
    private const int MaxOffsetMetadataLength = 4096;

    public ResponseWriter HandleFindCoordinator(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        reader.ReadString();
        var keyType = version >= 1 ? reader.ReadInt8() : GroupKeyType;
        var response = new ResponseWriter(context.CorrelationId, 64);
        if (version >= 1)
        {
            response.WriteInt32(0);
        }

        var error = keyType == GroupKeyType ? ErrorCode.None : ErrorCode.CoordinatorNotAvailable;
        response.WriteInt16(error);
        if (version >= 1)
        {
            response.WriteNullableString(error == ErrorCode.None ? null : "Transactions are not supported.");
        }

        response.WriteInt32(error == ErrorCode.None ? options.NodeId : -1);
        response.WriteString(error == ErrorCode.None ? endpoint.Host : "");
        response.WriteInt32(error == ErrorCode.None ? endpoint.Port : -1);
        return response;
    }

    public ValueTask<ResponseWriter?> HandleJoinGroup(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var groupId = reader.ReadString();
        var sessionTimeout = reader.ReadInt32();
        var rebalanceTimeout = version >= 1 ? reader.ReadInt32() : sessionTimeout;
        var memberId = reader.ReadString();
        var instanceId = version >= 5 ? reader.ReadNullableString() : null;
        var protocolType = reader.ReadString();
        var count = reader.ReadArrayCount(6);
        var protocols = new List<GroupProtocol>(count);
        for (var i = 0; i < count; i++)
        {
            protocols.Add(new GroupProtocol(reader.ReadString(), reader.ReadBytes()));
        }

        var join = coordinator.JoinAsync(new JoinGroupRequest(groupId, sessionTimeout, rebalanceTimeout, memberId, instanceId,
            protocolType, protocols, context.ClientId, context.ClientHost, RequireKnownMemberId: version >= 4));
        return join.IsCompletedSuccessfully
            ? ValueTask.FromResult<ResponseWriter?>(WriteJoinResponse(context, join.Result))
            : AwaitJoinAsync(context, join);
    }

    private static async ValueTask<ResponseWriter?> AwaitJoinAsync(RequestContext context, Task<JoinGroupResult> join) =>
        WriteJoinResponse(context, await join);

    private static ResponseWriter WriteJoinResponse(RequestContext context, JoinGroupResult result)
    {
        var version = context.ApiVersion;
        var response = new ResponseWriter(context.CorrelationId, 128 + result.Members.Sum(m => m.Metadata.Length + m.MemberId.Length + 16));
        if (version >= 2)
        {
            response.WriteInt32(0);
        }

        response.WriteInt16(result.Error);
        response.WriteInt32(result.GenerationId);
        response.WriteString(result.ProtocolName);
        response.WriteString(result.LeaderId);
        response.WriteString(result.MemberId);
        response.WriteArrayCount(result.Members.Count);
        foreach (var member in result.Members)
        {
            response.WriteString(member.MemberId);
            if (version >= 5)
            {
                response.WriteNullableString(member.GroupInstanceId);
            }

            response.WriteBytes(member.Metadata);
        }

        return response;
    }

    public ValueTask<ResponseWriter?> HandleSyncGroup(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var groupId = reader.ReadString();
        var generation = reader.ReadInt32();
        var memberId = reader.ReadString();
        if (version >= 3)
        {
            reader.ReadNullableString();
        }

        var count = reader.ReadArrayCount(6);
        var assignments = new Dictionary<string, byte[]>(Math.Max(count, 0), StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            assignments[reader.ReadString()] = reader.ReadBytes();
        }

        var sync = coordinator.SyncAsync(groupId, generation, memberId, assignments);
        return sync.IsCompletedSuccessfully
            ? ValueTask.FromResult<ResponseWriter?>(WriteSyncResponse(context, sync.Result))
            : AwaitSyncAsync(context, sync);
    }

    private static async ValueTask<ResponseWriter?> AwaitSyncAsync(RequestContext context, Task<SyncGroupResult> sync) =>
        WriteSyncResponse(context, await sync);

    private static ResponseWriter WriteSyncResponse(RequestContext context, SyncGroupResult result)
    {
        var response = new ResponseWriter(context.CorrelationId, 64 + result.Assignment.Length);
        if (context.ApiVersion >= 1)
        {
            response.WriteInt32(0);
        }

        response.WriteInt16(result.Error);
        response.WriteBytes(result.Assignment);
        return response;
    }

    public ResponseWriter HandleHeartbeat(RequestContext context, ref KafkaReader reader)
    {
        var groupId = reader.ReadString();
        var generation = reader.ReadInt32();
        var memberId = reader.ReadString();
        var response = new ResponseWriter(context.CorrelationId, 32);
        if (context.ApiVersion >= 1)
        {
            response.WriteInt32(0);
        }

        response.WriteInt16(coordinator.Heartbeat(groupId, generation, memberId));
        return response;
    }

    public ResponseWriter HandleLeaveGroup(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var groupId = reader.ReadString();
        var leaving = new List<(string MemberId, string? InstanceId)>();
        if (version >= 3)
        {
            var count = reader.ReadArrayCount(4);
            for (var i = 0; i < count; i++)
            {
                leaving.Add((reader.ReadString(), reader.ReadNullableString()));
            }
        }
        else
        {
            leaving.Add((reader.ReadString(), null));
        }

        var errors = coordinator.Leave(groupId, leaving);
        var response = new ResponseWriter(context.CorrelationId, 64);
        if (version >= 1)
        {
            response.WriteInt32(0);
        }

        if (version >= 3)
        {
            response.WriteInt16(ErrorCode.None);
            response.WriteArrayCount(leaving.Count);
            for (var i = 0; i < leaving.Count; i++)
            {
                response.WriteString(leaving[i].MemberId);
                response.WriteNullableString(leaving[i].InstanceId);
                response.WriteInt16(errors[i]);
            }
        }
        else
        {
            response.WriteInt16(errors[0]);
        }

        return response;
    }

    public ValueTask<ResponseWriter?> HandleOffsetCommit(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var groupId = reader.ReadString();
        var generation = reader.ReadInt32();
        var memberId = reader.ReadString();
        if (version >= 7)
        {
            reader.ReadNullableString();
        }

        if (version <= 4)
        {
            reader.ReadInt64();
        }

        var topicCount = reader.ReadArrayCount(6);
        var requested = new List<(string Topic, List<(int Partition, long Offset, int Epoch, string? Metadata)> Partitions)>(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            var partitionCount = reader.ReadArrayCount(14);
            var partitions = new List<(int, long, int, string?)>(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                var offset = reader.ReadInt64();
                var epoch = version >= 6 ? reader.ReadInt32() : -1;
                partitions.Add((index, offset, epoch, reader.ReadNullableString()));
            }

            requested.Add((name, partitions));
        }

        // The offsets log stores a group id with a 16-bit length; a longer one could never be read back.
        var groupError = Encoding.UTF8.GetByteCount(groupId) > short.MaxValue ? ErrorCode.InvalidGroupId
            : coordinator.ValidateCommit(groupId, generation, memberId);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var errors = new List<List<short>>(requested.Count);
        var commits = new List<(OffsetKey, CommittedOffset)>();
        foreach (var (topic, partitions) in requested)
        {
            var known = topics.Find(topic);
            var topicErrors = new List<short>(partitions.Count);
            foreach (var (partition, offset, epoch, metadata) in partitions)
            {
                var error = groupError != ErrorCode.None ? groupError
                    : known?.Partition(partition) is null ? ErrorCode.UnknownTopicOrPartition
                    : metadata?.Length > MaxOffsetMetadataLength ? ErrorCode.OffsetMetadataTooLarge
                    : ErrorCode.None;
                if (error == ErrorCode.None)
                {
                    commits.Add((new OffsetKey(topic, partition), new CommittedOffset(offset, epoch, metadata, now)));
                }

                topicErrors.Add(error);
            }

            errors.Add(topicErrors);
        }

        Task durable;
        try
        {
            durable = commits.Count > 0 ? flusher.WaitDurableAsync(offsets.Commit(groupId, commits)) : Task.CompletedTask;
        }
        catch (IOException ex)
        {
            durable = Task.FromException(ex);
        }

        return durable.IsCompletedSuccessfully
            ? ValueTask.FromResult<ResponseWriter?>(WriteCommitResponse(context, requested, errors))
            : AwaitCommitAsync(durable, context, requested, errors);
    }

    private static async ValueTask<ResponseWriter?> AwaitCommitAsync(Task durable, RequestContext context,
        List<(string Topic, List<(int Partition, long Offset, int Epoch, string? Metadata)> Partitions)> requested, List<List<short>> errors)
    {
        try
        {
            await durable;
        }
        catch (IOException)
        {
            // The fsync failed and the commits were rolled back. COORDINATOR_NOT_AVAILABLE, because clients retry it:
            // the Java consumer and librdkafka look the coordinator up again and resend the commit, where the Java
            // consumer fails a commit answered KAFKA_STORAGE_ERROR outright. (Kafka answers NOT_COORDINATOR here,
            // after moving the offsets partition to another broker; a single node has none to move it to.)
            errors = [.. errors.Select(topic => topic.Select(error => error == ErrorCode.None ? ErrorCode.CoordinatorNotAvailable : error).ToList())];
        }

        return WriteCommitResponse(context, requested, errors);
    }

    private static ResponseWriter WriteCommitResponse(RequestContext context,
        List<(string Topic, List<(int Partition, long Offset, int Epoch, string? Metadata)> Partitions)> requested, List<List<short>> errors)
    {
        var response = new ResponseWriter(context.CorrelationId, 128);
        if (context.ApiVersion >= 3)
        {
            response.WriteInt32(0);
        }

        response.WriteArrayCount(requested.Count);
        for (var t = 0; t < requested.Count; t++)
        {
            response.WriteString(requested[t].Topic);
            response.WriteArrayCount(requested[t].Partitions.Count);
            for (var p = 0; p < requested[t].Partitions.Count; p++)
            {
                response.WriteInt32(requested[t].Partitions[p].Partition);
                response.WriteInt16(errors[t][p]);
            }
        }

        return response;
    }

    public ResponseWriter HandleOffsetFetch(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var groupId = reader.ReadString();
        var topicCount = reader.ReadArrayCount(6);
        List<(string Topic, List<int> Partitions)> requested;
        if (topicCount < 0)
        {
            requested = [.. offsets.GetAll(groupId).GroupBy(o => o.Key.Topic).Select(g => (g.Key, g.Select(o => o.Key.Partition).Order().ToList()))];
        }
        else
        {
            requested = new(topicCount);
            for (var t = 0; t < topicCount; t++)
            {
                var name = reader.ReadString();
                var count = reader.ReadArrayCount(4);
                var partitions = new List<int>(Math.Max(count, 0));
                for (var p = 0; p < count; p++)
                {
                    partitions.Add(reader.ReadInt32());
                }

                requested.Add((name, partitions));
            }
        }

        // Unavailable after a failed fsync it could not roll back: what is in memory may never have reached the disk.
        var error = offsets.Available ? ErrorCode.None : ErrorCode.CoordinatorNotAvailable;
        var response = new ResponseWriter(context.CorrelationId, 256);
        if (version >= 3)
        {
            response.WriteInt32(0);
        }

        response.WriteArrayCount(requested.Count);
        foreach (var (topic, partitions) in requested)
        {
            response.WriteString(topic);
            response.WriteArrayCount(partitions.Count);
            foreach (var partition in partitions)
            {
                var committed = error == ErrorCode.None ? offsets.Get(groupId, topic, partition) : null;
                response.WriteInt32(partition);
                response.WriteInt64(committed?.Offset ?? -1);
                if (version >= 5)
                {
                    response.WriteInt32(committed?.LeaderEpoch ?? -1);
                }

                response.WriteNullableString(committed is null ? "" : committed.Metadata);
                response.WriteInt16(error);
            }
        }

        if (version >= 2)
        {
            response.WriteInt16(error);
        }

        return response;
    }

    /// <summary>ListGroups v0–4; v3+ is flexible and v4 carries each group's state and a state filter.</summary>
    public ResponseWriter HandleListGroups(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        HashSet<string>? states = null;
        if (version >= 4)
        {
            var count = (int)reader.ReadUnsignedVarInt() - 1;
            if (count > reader.Remaining)
            {
                throw new ProtocolException("ListGroups states filter longer than the request.");
            }

            for (var i = 0; i < count; i++)
            {
                (states ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(reader.ReadCompactNullableString() ?? "");
            }
        }

        if (version >= 3)
        {
            reader.SkipTaggedFields();
        }

        var groups = coordinator.ListGroups().Where(g => states is null || states.Contains(g.State)).ToList();
        var response = new ResponseWriter(context.CorrelationId, 64 + (groups.Count * 48));
        if (version >= 3)
        {
            response.WriteEmptyTaggedFields();
        }

        if (version >= 1)
        {
            response.WriteInt32(0);
        }

        response.WriteInt16(ErrorCode.None);
        if (version >= 3)
        {
            response.WriteCompactArrayCount(groups.Count);
        }
        else
        {
            response.WriteArrayCount(groups.Count);
        }

        foreach (var (groupId, protocolType, state) in groups)
        {
            if (version >= 3)
            {
                response.WriteCompactString(groupId);
                response.WriteCompactString(protocolType);
                if (version >= 4)
                {
                    response.WriteCompactString(state);
                }

                response.WriteEmptyTaggedFields();
            }
            else
            {
                response.WriteString(groupId);
                response.WriteString(protocolType);
            }
        }

        if (version >= 3)
        {
            response.WriteEmptyTaggedFields();
        }

        return response;
    }

    public ResponseWriter HandleDescribeGroups(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var count = reader.ReadArrayCount(2);
        var groupIds = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            groupIds.Add(reader.ReadString());
        }

        if (version >= 3)
        {
            reader.ReadBool();
        }

        var response = new ResponseWriter(context.CorrelationId, 256);
        if (version >= 1)
        {
            response.WriteInt32(0);
        }

        response.WriteArrayCount(groupIds.Count);
        foreach (var groupId in groupIds)
        {
            var group = coordinator.Describe(groupId);
            response.WriteInt16(group.Error);
            response.WriteString(group.GroupId);
            response.WriteString(group.State);
            response.WriteString(group.ProtocolType);
            response.WriteString(group.Protocol);
            response.WriteArrayCount(group.Members.Count);
            foreach (var member in group.Members)
            {
                response.WriteString(member.MemberId);
                if (version >= 4)
                {
                    response.WriteNullableString(member.GroupInstanceId);
                }

                response.WriteString(member.ClientId);
                response.WriteString(member.ClientHost);
                response.WriteBytes(member.Metadata);
                response.WriteBytes(member.Assignment);
            }

            if (version >= 3)
            {
                response.WriteInt32(int.MinValue);
            }
        }

        return response;
    }

    public ValueTask<ResponseWriter?> HandleDeleteGroups(RequestContext context, ref KafkaReader reader)
    {
        var count = reader.ReadArrayCount(2);
        var results = new List<(string, short)>(count);
        for (var i = 0; i < count; i++)
        {
            var groupId = reader.ReadString();
            results.Add((groupId, coordinator.Delete(groupId)));
        }

        var response = new ResponseWriter(context.CorrelationId, 64);
        response.WriteInt32(0);
        response.WriteArrayCount(results.Count);
        foreach (var (groupId, error) in results)
        {
            response.WriteString(groupId);
            response.WriteInt16(error);
        }

        return ValueTask.FromResult<ResponseWriter?>(response);
    }
}
