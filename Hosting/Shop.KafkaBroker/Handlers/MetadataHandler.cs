using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// Metadata v0–8: this node is the only broker, the controller and the leader of every partition (leader
/// epoch 0, constant). Unknown topics are created when both the request (v4+) and the broker allow it.
/// A partition taken offline by a storage error is shown as Kafka shows one whose only replica's log directory
/// failed: LEADER_NOT_AVAILABLE, no leader, this node an offline replica. Producers' partitioners then leave it
/// out, and clients send it nothing until a restart brings it back.
/// </summary>
public sealed class MetadataHandler(BrokerOptions options, BrokerEndpoint endpoint, TopicStore topics, ClusterIdentity cluster)
{
    private const int AuthorizedOperationsOmitted = int.MinValue;
    private const int NoLeader = -1;

    public ResponseWriter Handle(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var count = reader.ReadArrayCount(2);
        List<string>? requested = null;
        if (count > 0 || (count == 0 && version >= 1))
        {
            requested = new List<string>(count);
            for (var i = 0; i < count; i++)
            {
                requested.Add(reader.ReadString());
            }
        }

        var allowAutoCreate = version < 4 || reader.ReadBool();
        if (version >= 8)
        {
            reader.ReadBool();
            reader.ReadBool();
        }

        var response = new ResponseWriter(context.CorrelationId, 1024);
        if (version >= 3)
        {
            response.WriteInt32(0);
        }

        response.WriteArrayCount(1);
        response.WriteInt32(options.NodeId);
        response.WriteString(endpoint.Host);
        response.WriteInt32(endpoint.Port);
        if (version >= 1)
        {
            response.WriteNullableString(null);
        }

        if (version >= 2)
        {
            response.WriteNullableString(cluster.ClusterId);
        }

        if (version >= 1)
        {
            response.WriteInt32(options.NodeId);
        }

        var selected = requested is null
            ? [.. topics.Topics.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => (t.Name, (Topic?)t, ErrorCode.None))]
            : requested.Select(name => Resolve(name, allowAutoCreate)).ToList();

        response.WriteArrayCount(selected.Count);
        foreach (var (name, topic, error) in selected)
        {
            response.WriteInt16(error);
            response.WriteString(name);
            if (version >= 1)
            {
                response.WriteBool(false);
            }

            var partitions = topic?.Partitions ?? [];
            response.WriteArrayCount(partitions.Length);
            foreach (var partition in partitions)
            {
                var offline = partition.Offline;
                response.WriteInt16(offline ? ErrorCode.LeaderNotAvailable : ErrorCode.None);
                response.WriteInt32(partition.Partition);
                response.WriteInt32(offline ? NoLeader : options.NodeId);
                if (version >= 7)
                {
                    response.WriteInt32(0);
                }

                response.WriteArrayCount(1);
                response.WriteInt32(options.NodeId);
                response.WriteArrayCount(1);
                response.WriteInt32(options.NodeId);
                if (version >= 5)
                {
                    response.WriteArrayCount(offline ? 1 : 0);
                    if (offline)
                    {
                        response.WriteInt32(options.NodeId);
                    }
                }
            }

            if (version >= 8)
            {
                response.WriteInt32(AuthorizedOperationsOmitted);
            }
        }

        if (version >= 8)
        {
            response.WriteInt32(AuthorizedOperationsOmitted);
        }

        return response;
    }

    private (string Name, Topic? Topic, short Error) Resolve(string name, bool allowAutoCreate)
    {
        if (topics.Find(name) is { } existing)
        {
            return (name, existing, ErrorCode.None);
        }

        if (TopicStore.ValidateName(name) != ErrorCode.None)
        {
            return (name, null, ErrorCode.InvalidTopic);
        }

        if (allowAutoCreate && options.AutoCreateTopics)
        {
            var (error, _) = topics.Create(name, options.DefaultPartitions, new Dictionary<string, string>());
            if (error is ErrorCode.None or ErrorCode.TopicAlreadyExists && topics.Find(name) is { } created)
            {
                return (name, created, ErrorCode.None);
            }
        }

        return (name, null, ErrorCode.UnknownTopicOrPartition);
    }
}
