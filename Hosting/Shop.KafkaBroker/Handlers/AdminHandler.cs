using System.Globalization;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Security;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// Topic administration (CreateTopics v0–4, DeleteTopics v0–3, CreatePartitions v0–1, DescribeConfigs v0–1) and
/// InitProducerId v0–1. Deleting a topic or adding partitions to it takes the same permission as writing to it.
/// </summary>
public sealed class AdminHandler(BrokerOptions options, TopicStore topics, ClusterIdentity cluster, BrokerSecurity security)
{
    private const sbyte TopicResource = 2;
    private const sbyte BrokerResource = 4;
    private const sbyte DynamicTopicConfigSource = 1;
    private const sbyte StaticBrokerConfigSource = 4;
    private const sbyte DefaultConfigSource = 5;

    public ResponseWriter HandleCreateTopics(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var count = reader.ReadArrayCount(14);
        var requests = new List<(string Name, int Partitions, short Replication, int Assignments, Dictionary<string, string> Configs, string? Invalid)>(count);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var partitions = reader.ReadInt32();
            var replication = reader.ReadInt16();
            var assignments = reader.ReadArrayCount(8);
            string? invalid = null;
            for (var a = 0; a < assignments; a++)
            {
                reader.ReadInt32();
                var brokers = reader.ReadArrayCount(4);
                for (var b = 0; b < brokers; b++)
                {
                    if (reader.ReadInt32() != options.NodeId)
                    {
                        invalid = $"Only broker {options.NodeId} exists.";
                    }
                }
            }

            var configCount = reader.ReadArrayCount(4);
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var c = 0; c < configCount; c++)
            {
                var key = reader.ReadString();
                var value = reader.ReadNullableString();
                if (value is null)
                {
                    invalid ??= $"Config {key} needs a value.";
                }
                else
                {
                    configs[key] = value;
                }
            }

            requests.Add((name, partitions, replication, Math.Max(assignments, 0), configs, invalid));
        }

        reader.ReadInt32();
        var validateOnly = version >= 1 && reader.ReadBool();

        var response = new ResponseWriter(context.CorrelationId, 256);
        if (version >= 2)
        {
            response.WriteInt32(0);
        }

        response.WriteArrayCount(requests.Count);
        foreach (var request in requests)
        {
            var partitions = request.Assignments > 0 ? request.Assignments : request.Partitions == -1 ? options.DefaultPartitions : request.Partitions;
            var (error, message) = request switch
            {
                { Invalid: { } problem } => (ErrorCode.InvalidRequest, problem),
                { Replication: > 1 } => (ErrorCode.InvalidReplicationFactor, "Replication factor must be 1 (or -1): this is a single broker."),
                { Replication: 0 or < -1 } => (ErrorCode.InvalidReplicationFactor, "Replication factor must be 1 (or -1)."),
                { Assignments: 0, Partitions: 0 or < -1 } => (ErrorCode.InvalidPartitions, "Number of partitions must be at least 1."),
                _ => topics.Create(request.Name, partitions, request.Configs, validateOnly),
            };
            response.WriteString(request.Name);
            response.WriteInt16(error);
            if (version >= 1)
            {
                response.WriteNullableString(message);
            }
        }

        return response;
    }

    public ResponseWriter HandleDeleteTopics(RequestContext context, ref KafkaReader reader)
    {
        var count = reader.ReadArrayCount(2);
        var names = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            names.Add(reader.ReadString());
        }

        reader.ReadInt32();
        var response = new ResponseWriter(context.CorrelationId, 128);
        if (context.ApiVersion >= 1)
        {
            response.WriteInt32(0);
        }

        response.WriteArrayCount(names.Count);
        foreach (var name in names)
        {
            response.WriteString(name);
            response.WriteInt16(security.CanWrite(context.Principal, name) ? topics.Delete(name) : ErrorCode.TopicAuthorizationFailed);
        }

        return response;
    }

    public ResponseWriter HandleCreatePartitions(RequestContext context, ref KafkaReader reader)
    {
        var count = reader.ReadArrayCount(10);
        var requests = new List<(string Name, int Count)>(count);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var total = reader.ReadInt32();
            var assignments = reader.ReadArrayCount(4);
            for (var a = 0; a < assignments; a++)
            {
                var brokers = reader.ReadArrayCount(4);
                for (var b = 0; b < brokers; b++)
                {
                    reader.ReadInt32();
                }
            }

            requests.Add((name, total));
        }

        reader.ReadInt32();
        var validateOnly = reader.ReadBool();
        var response = new ResponseWriter(context.CorrelationId, 128);
        response.WriteInt32(0);
        response.WriteArrayCount(requests.Count);
        foreach (var (name, total) in requests)
        {
            var (error, message) = security.CanWrite(context.Principal, name)
                ? topics.AddPartitions(name, total, validateOnly)
                : (ErrorCode.TopicAuthorizationFailed, $"Not authorized to add partitions to topic '{name}'.");
            response.WriteString(name);
            response.WriteInt16(error);
            response.WriteNullableString(message);
        }

        return response;
    }

    public ResponseWriter HandleDescribeConfigs(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var count = reader.ReadArrayCount(7);
        var resources = new List<(sbyte Type, string Name, HashSet<string>? Keys)>(count);
        for (var i = 0; i < count; i++)
        {
            var type = reader.ReadInt8();
            var name = reader.ReadString();
            var keyCount = reader.ReadArrayCount(2);
            HashSet<string>? keys = keyCount < 0 ? null : [];
            for (var k = 0; k < keyCount; k++)
            {
                keys!.Add(reader.ReadString());
            }

            resources.Add((type, name, keys));
        }

        if (version >= 1)
        {
            reader.ReadBool();
        }

        var response = new ResponseWriter(context.CorrelationId, 1024);
        response.WriteInt32(0);
        response.WriteArrayCount(resources.Count);
        foreach (var (type, name, keys) in resources)
        {
            var (error, message, entries) = Describe(type, name);
            response.WriteInt16(error);
            response.WriteNullableString(message);
            response.WriteInt8(type);
            response.WriteString(name);
            var selected = entries.Where(e => keys is null || keys.Count == 0 || keys.Contains(e.Name)).ToList();
            response.WriteArrayCount(selected.Count);
            foreach (var entry in selected)
            {
                response.WriteString(entry.Name);
                response.WriteNullableString(entry.Value);
                response.WriteBool(entry.ReadOnly);
                if (version == 0)
                {
                    response.WriteBool(entry.Source == DefaultConfigSource);
                }
                else
                {
                    response.WriteInt8(entry.Source);
                }

                response.WriteBool(false);
                if (version >= 1)
                {
                    response.WriteArrayCount(0);
                }
            }
        }

        return response;
    }

    private (short, string?, List<(string Name, string Value, bool ReadOnly, sbyte Source)>) Describe(sbyte type, string name)
    {
        if (type == TopicResource)
        {
            return topics.Find(name) is { } topic
                ? (ErrorCode.None, null, [.. topic.Config.Describe().Select(c => (c.Name, c.Value, false, c.IsDefault ? DefaultConfigSource : DynamicTopicConfigSource))])
                : (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.", []);
        }

        if (type == BrokerResource)
        {
            if (name.Length > 0 && name != options.NodeId.ToString(CultureInfo.InvariantCulture))
            {
                return (ErrorCode.InvalidRequest, $"Broker {name} does not exist; this is broker {options.NodeId}.", []);
            }

            string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
            return (ErrorCode.None, null,
            [
                ("broker.id", Text(options.NodeId), true, StaticBrokerConfigSource),
                ("log.dirs", options.DataDir, true, StaticBrokerConfigSource),
                ("log.retention.ms", Text(options.RetentionMs), true, StaticBrokerConfigSource),
                ("log.retention.bytes", Text(options.RetentionBytes), true, StaticBrokerConfigSource),
                ("log.segment.bytes", Text(options.SegmentBytes), true, StaticBrokerConfigSource),
                ("log.flush.policy", options.Flush.ToString().ToLowerInvariant(), true, StaticBrokerConfigSource),
                ("auto.create.topics.enable", options.AutoCreateTopics ? "true" : "false", true, StaticBrokerConfigSource),
                ("num.partitions", Text(options.DefaultPartitions), true, StaticBrokerConfigSource),
                ("message.max.bytes", Text(options.MaxMessageBytes), true, StaticBrokerConfigSource),
                ("fetch.max.bytes", Text(options.FetchMaxBytes), true, StaticBrokerConfigSource),
                ("socket.request.max.bytes", Text(options.MaxRequestBytes), true, StaticBrokerConfigSource),
                ("group.initial.rebalance.delay.ms", Text(options.GroupInitialRebalanceDelayMs), true, StaticBrokerConfigSource),
                ("group.min.session.timeout.ms", Text(options.GroupMinSessionTimeoutMs), true, StaticBrokerConfigSource),
                ("group.max.session.timeout.ms", Text(options.GroupMaxSessionTimeoutMs), true, StaticBrokerConfigSource),
            ]);
        }

        return (ErrorCode.InvalidRequest, $"Resource type {type} is not supported.", []);
    }

    /// <summary>Idempotent producers only: a transactional id is refused (transactions are not implemented).</summary>
    public ResponseWriter HandleInitProducerId(RequestContext context, ref KafkaReader reader)
    {
        var transactionalId = reader.ReadNullableString();
        reader.ReadInt32();
        var response = new ResponseWriter(context.CorrelationId, 32);
        response.WriteInt32(0);
        if (transactionalId is not null)
        {
            response.WriteInt16(ErrorCode.UnsupportedVersion);
            response.WriteInt64(-1);
            response.WriteInt16(-1);
            return response;
        }

        response.WriteInt16(ErrorCode.None);
        response.WriteInt64(cluster.NextProducerId());
        response.WriteInt16(0);
        return response;
    }
}
