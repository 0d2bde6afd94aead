using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Security;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Telemetry;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// Produce v3–8. Each partition carries exactly one RecordBatch v2, validated (framing, magic, CRC-32C,
/// size, codec, record count against offsets and, uncompressed, against the records) and appended as received. The answer waits until every append of the request is durable
/// (group commit); acks=0 gets no answer at all. A topic the principal may not write to gets
/// TOPIC_AUTHORIZATION_FAILED for each of its partitions, and nothing of it is written.
/// </summary>
public sealed class ProduceHandler(TopicStore topics, FlushScheduler flusher, BrokerMetrics metrics, BrokerSecurity security)
{
    private const int ZstdCodec = 4;

    private readonly record struct PartitionResult(int Partition, AppendResult Result);

    private sealed record TopicResult(string Name, List<PartitionResult> Partitions);

    public ValueTask<ResponseWriter?> Handle(RequestContext context, byte[] frame, ref KafkaReader reader)
    {
        metrics.ProduceRequest();
        reader.ReadNullableString();
        var acks = reader.ReadInt16();
        reader.ReadInt32();
        var topicCount = reader.ReadArrayCount(6);
        var results = new List<TopicResult>(topicCount);
        long ticket = 0;
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            var authorized = security.CanWrite(context.Principal, name);
            var topic = authorized ? topics.Find(name) : null;
            var partitionCount = reader.ReadArrayCount(8);
            var partitions = new List<PartitionResult>(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                var (start, length) = reader.ReadBytesRange();
                var result = authorized
                    ? Append(context.ApiVersion, topic, index, start < 0 ? [] : frame.AsSpan(start, length))
                    : Failed(ErrorCode.TopicAuthorizationFailed);
                ticket = Math.Max(ticket, result.Ticket);
                partitions.Add(new PartitionResult(index, result));
            }

            results.Add(new TopicResult(name, partitions));
        }

        if (acks == 0)
        {
            return ValueTask.FromResult<ResponseWriter?>(null);
        }

        var durable = flusher.WaitDurableAsync(ticket);
        return durable.IsCompletedSuccessfully
            ? ValueTask.FromResult<ResponseWriter?>(WriteResponse(context, results))
            : RespondWhenDurableAsync(durable, context, results);
    }

    private static async ValueTask<ResponseWriter?> RespondWhenDurableAsync(Task durable, RequestContext context, List<TopicResult> results)
    {
        try
        {
            await durable;
        }
        catch (IOException)
        {
            // The fsync failed: what was appended may be lost, so it is not acknowledged.
            results = [.. results.Select(topic => topic with
            {
                Partitions = [.. topic.Partitions.Select(p => p.Result.Error == ErrorCode.None ? p with { Result = Failed(ErrorCode.KafkaStorageError) } : p)],
            })];
        }

        return WriteResponse(context, results);
    }

    private AppendResult Append(short version, Topic? topic, int index, Span<byte> batch)
    {
        var log = topic?.Partition(index);
        if (log is null)
        {
            return Failed(ErrorCode.UnknownTopicOrPartition);
        }

        if (batch.Length < RecordBatch.HeaderSize)
        {
            return Failed(batch.Length == 0 ? ErrorCode.InvalidRecord : ErrorCode.CorruptMessage);
        }

        if (batch[RecordBatch.MagicOffset] != 2)
        {
            return Failed(ErrorCode.InvalidRecord);
        }

        var total = (long)RecordBatch.Length(batch) + RecordBatch.LogOverhead;
        if (total > batch.Length || total < RecordBatch.HeaderSize)
        {
            return Failed(ErrorCode.CorruptMessage);
        }

        if (total < batch.Length)
        {
            return Failed(ErrorCode.InvalidRecord);
        }

        var config = topic!.Config;
        if (batch.Length > config.MaxMessageBytes)
        {
            return Failed(ErrorCode.MessageTooLarge);
        }

        if (RecordBatch.Validate(batch) != BatchValidation.Valid)
        {
            return Failed(ErrorCode.CorruptMessage);
        }

        var attributes = RecordBatch.Attributes(batch);
        var codec = attributes & RecordBatch.CompressionMask;
        if (codec > ZstdCodec || (codec == ZstdCodec && version < 7))
        {
            return Failed(ErrorCode.UnsupportedCompressionType);
        }

        if ((attributes & (RecordBatch.TransactionalFlag | RecordBatch.ControlFlag)) != 0)
        {
            return Failed(ErrorCode.InvalidRecord);
        }

        // A count that contradicts the offsets reuses or skips offsets; records that do not parse stall consumers.
        if (!RecordBatch.RecordsMatchHeader(batch))
        {
            return Failed(ErrorCode.InvalidRecord);
        }

        var result = log.Append(batch, config);
        if (result.Error == ErrorCode.None)
        {
            metrics.Produced(batch.Length, RecordBatch.RecordsCount(batch));
        }

        return result;
    }

    private static AppendResult Failed(short error) => new(error, -1, -1, -1, 0);

    private static ResponseWriter WriteResponse(RequestContext context, List<TopicResult> results)
    {
        var version = context.ApiVersion;
        var response = new ResponseWriter(context.CorrelationId, 64 + (results.Count * 64));
        response.WriteArrayCount(results.Count);
        foreach (var topic in results)
        {
            response.WriteString(topic.Name);
            response.WriteArrayCount(topic.Partitions.Count);
            foreach (var (partition, result) in topic.Partitions)
            {
                response.WriteInt32(partition);
                response.WriteInt16(result.Error);
                response.WriteInt64(result.BaseOffset);
                response.WriteInt64(result.LogAppendTime);
                if (version >= 5)
                {
                    response.WriteInt64(result.LogStartOffset);
                }

                if (version >= 8)
                {
                    response.WriteArrayCount(0);
                    response.WriteNullableString(null);
                }
            }
        }

        response.WriteInt32(0);
        return response;
    }
}
