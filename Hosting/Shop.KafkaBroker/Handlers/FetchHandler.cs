using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Telemetry;

namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// Fetch v4–11 with long polling, ListOffsets v1–5 and OffsetForLeaderEpoch v0–2. Data is read from the
/// segment files straight into the pooled response buffer, whole batches only (the first one even when it
/// exceeds the limits, or the consumer could never progress). A waiting fetch sleeps on its partitions'
/// signals, woken when their high watermark moves. A response carries at most the broker's fetch.max.bytes, and a
/// partition listed twice is served once, as Kafka's fetch map keeps one entry per partition.
/// </summary>
public sealed class FetchHandler(BrokerOptions options, TopicStore topics, TimeProvider time, BrokerMetrics metrics)
{
    private const int ZstdCodec = 4;

    private sealed record FetchPartition(int Index, PartitionLog? Log, long FetchOffset, int MaxBytes);

    private sealed record FetchTopic(string Name, List<FetchPartition> Partitions);

    private sealed record FetchRequest(int MaxWaitMs, int MinBytes, int MaxBytes, List<FetchTopic> Topics);

    public ValueTask<ResponseWriter?> HandleFetch(RequestContext context, ref KafkaReader reader)
    {
        metrics.FetchRequest();
        var version = context.ApiVersion;
        reader.ReadInt32();
        var maxWait = reader.ReadInt32();
        var minBytes = reader.ReadInt32();
        var maxBytes = reader.ReadInt32();
        reader.ReadInt8();
        if (version >= 7)
        {
            reader.ReadInt32();
            reader.ReadInt32();
        }

        var topicCount = reader.ReadArrayCount(6);
        var requestTopics = new List<FetchTopic>(topicCount);
        var listed = new HashSet<(string Topic, int Partition)>();
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            var topic = topics.Find(name);
            var partitionCount = reader.ReadArrayCount(16);
            var partitions = new List<FetchPartition>(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                if (version >= 9)
                {
                    reader.ReadInt32();
                }

                var fetchOffset = reader.ReadInt64();
                if (version >= 5)
                {
                    reader.ReadInt64();
                }

                var partitionMaxBytes = reader.ReadInt32();
                if (listed.Add((name, index)))
                {
                    partitions.Add(new FetchPartition(index, topic?.Partition(index), fetchOffset, partitionMaxBytes));
                }
            }

            if (partitions.Count > 0 || partitionCount == 0)
            {
                requestTopics.Add(new FetchTopic(name, partitions));
            }
        }

        if (version >= 7)
        {
            var forgotten = reader.ReadArrayCount(6);
            for (var i = 0; i < forgotten; i++)
            {
                reader.ReadString();
                var count = reader.ReadArrayCount(4);
                for (var j = 0; j < count; j++)
                {
                    reader.ReadInt32();
                }
            }
        }

        if (version >= 11)
        {
            reader.ReadString();
        }

        var responseLimit = maxBytes <= 0 ? options.FetchMaxBytes : Math.Min(maxBytes, options.FetchMaxBytes);
        var request = new FetchRequest(maxWait, minBytes, responseLimit, requestTopics);
        return ShouldRespond(request)
            ? ValueTask.FromResult<ResponseWriter?>(WriteResponse(context, request))
            : WaitThenRespondAsync(context, request);
    }

    private async ValueTask<ResponseWriter?> WaitThenRespondAsync(RequestContext context, FetchRequest request)
    {
        var deadline = time.GetUtcNow().AddMilliseconds(Math.Max(0, request.MaxWaitMs));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
        var logs = request.Topics.SelectMany(t => t.Partitions).Select(p => p.Log).OfType<PartitionLog>().ToList();
        while (true)
        {
            var signals = logs.Select(l => l.Changed.WaitTask).ToList();
            if (ShouldRespond(request))
            {
                break;
            }

            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            signals.Add(Task.Delay(remaining, time, timeout.Token));
            await Task.WhenAny(signals);
            if (context.ConnectionClosed.IsCancellationRequested)
            {
                break;
            }
        }

        await timeout.CancelAsync();
        return WriteResponse(context, request);
    }

    /// <summary>True when enough bytes are waiting or a partition has an error to report.</summary>
    private static bool ShouldRespond(FetchRequest request)
    {
        long available = 0;
        foreach (var topic in request.Topics)
        {
            foreach (var partition in topic.Partitions)
            {
                if (partition.Log is not { } log)
                {
                    return true;
                }

                if (log.Offline || partition.FetchOffset < log.LogStartOffset || partition.FetchOffset > log.HighWatermark)
                {
                    return true;
                }

                if (partition.FetchOffset < log.HighWatermark)
                {
                    var slice = log.Locate(partition.FetchOffset);
                    if (slice.Segment is { } segment)
                    {
                        available += Math.Min(slice.Available, partition.MaxBytes);
                        segment.Release();
                    }
                }
            }
        }

        return available >= Math.Max(1, request.MinBytes) || request.MaxWaitMs <= 0;
    }

    private ResponseWriter WriteResponse(RequestContext context, FetchRequest request)
    {
        var version = context.ApiVersion;
        var response = new ResponseWriter(context.CorrelationId, 4096);
        response.WriteInt32(0);
        if (version >= 7)
        {
            response.WriteInt16(ErrorCode.None);
            response.WriteInt32(0);
        }

        long budget = request.MaxBytes;
        long totalBytes = 0, totalRecords = 0;
        response.WriteArrayCount(request.Topics.Count);
        foreach (var topic in request.Topics)
        {
            response.WriteString(topic.Name);
            response.WriteArrayCount(topic.Partitions.Count);
            foreach (var partition in topic.Partitions)
            {
                response.WriteInt32(partition.Index);
                var log = partition.Log;
                var slice = log is null ? new FetchSlice(ErrorCode.UnknownTopicOrPartition, null, 0, 0) : log.Locate(partition.FetchOffset);
                var errorPosition = response.Length;
                response.WriteInt16(slice.Error);
                var highWatermark = log?.HighWatermark ?? -1;
                response.WriteInt64(highWatermark);
                response.WriteInt64(highWatermark);
                if (version >= 5)
                {
                    response.WriteInt64(log?.LogStartOffset ?? -1);
                }

                response.WriteArrayCount(0);
                if (version >= 11)
                {
                    response.WriteInt32(-1);
                }

                var lengthPosition = response.ReserveInt32();
                if (slice.Segment is not { } segment)
                {
                    continue;
                }

                try
                {
                    var limit = (int)Math.Min(Math.Min(slice.Available, Math.Max(0, partition.MaxBytes)), Math.Max(0, budget));
                    var (bytes, records, nextOffset, unsupportedCodec) = ReadBatches(response, segment, slice.Position, limit,
                        mayExceedLimit: totalBytes == 0, slice.Available, version);
                    if (unsupportedCodec)
                    {
                        response.Truncate(lengthPosition + 4);
                        response.PatchInt32(lengthPosition, 0);
                        response.PatchInt16(errorPosition, ErrorCode.UnsupportedCompressionType);
                        continue;
                    }

                    response.PatchInt32(lengthPosition, bytes);
                    if (bytes > 0)
                    {
                        log!.SetReadHint(nextOffset, segment, slice.Position + bytes);
                        budget -= bytes;
                        totalBytes += bytes;
                        totalRecords += records;
                    }
                }
                finally
                {
                    segment.Release();
                }
            }
        }

        metrics.Fetched(totalBytes, totalRecords);
        return response;
    }

    /// <summary>Reads whole batches into the response; returns bytes kept, records, the next offset and a codec problem.</summary>
    private static (int Bytes, long Records, long NextOffset, bool UnsupportedCodec) ReadBatches(
        ResponseWriter response, Segment segment, long position, int limit, bool mayExceedLimit, long available, short version)
    {
        if (limit < RecordBatch.HeaderSize)
        {
            if (!mayExceedLimit)
            {
                return (0, 0, -1, false);
            }

            limit = (int)Math.Min(available, RecordBatch.HeaderSize);
        }

        var span = response.GetSpan(limit);
        var read = segment.Read(span, position);
        var kept = 0;
        while (kept + RecordBatch.HeaderSize <= read
            && RecordBatch.TotalSize(span[kept..]) >= RecordBatch.HeaderSize
            && kept + RecordBatch.TotalSize(span[kept..]) <= read)
        {
            kept += RecordBatch.TotalSize(span[kept..]);
        }

        if (kept == 0 && read >= RecordBatch.LogOverhead && mayExceedLimit)
        {
            var first = RecordBatch.TotalSize(span);
            if (first <= available)
            {
                span = response.GetSpan(first);
                read = segment.Read(span, position);
                kept = read == first ? first : 0;
            }
        }

        span = response.GetSpan(kept);
        long records = 0, nextOffset = -1;
        for (var at = 0; at < kept; at += RecordBatch.TotalSize(span[at..]))
        {
            var batch = span[at..];
            if ((RecordBatch.Attributes(batch) & RecordBatch.CompressionMask) == ZstdCodec && version < 10)
            {
                return (0, 0, -1, true);
            }

            records += RecordBatch.RecordsCount(batch);
            nextOffset = RecordBatch.LastOffset(batch) + 1;
        }

        response.Advance(kept);
        return (kept, records, nextOffset, false);
    }

    public ResponseWriter HandleListOffsets(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        reader.ReadInt32();
        if (version >= 2)
        {
            reader.ReadInt8();
        }

        var response = new ResponseWriter(context.CorrelationId, 256);
        if (version >= 2)
        {
            response.WriteInt32(0);
        }

        var topicCount = reader.ReadArrayCount(6);
        response.WriteArrayCount(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            var topic = topics.Find(name);
            response.WriteString(name);
            var partitionCount = reader.ReadArrayCount(12);
            response.WriteArrayCount(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                if (version >= 4)
                {
                    reader.ReadInt32();
                }

                var timestamp = reader.ReadInt64();
                var log = topic?.Partition(index);
                var (error, foundTimestamp, offset) = log is null
                    ? (ErrorCode.UnknownTopicOrPartition, -1L, -1L)
                    : log.Offline
                    ? (ErrorCode.KafkaStorageError, -1L, -1L)
                    : timestamp switch
                    {
                        -1 => (ErrorCode.None, -1L, log.HighWatermark),
                        -2 => (ErrorCode.None, -1L, log.LogStartOffset),
                        < 0 => (ErrorCode.None, -1L, log.HighWatermark),
                        _ => Lookup(log, timestamp),
                    };
                response.WriteInt32(index);
                response.WriteInt16(error);
                response.WriteInt64(foundTimestamp);
                response.WriteInt64(offset);
                if (version >= 4)
                {
                    response.WriteInt32(error == ErrorCode.None && offset >= 0 ? 0 : -1);
                }
            }
        }

        return response;
    }

    private static (short, long, long) Lookup(PartitionLog log, long timestamp)
    {
        var (offset, found) = log.OffsetForTimestamp(timestamp);
        return (ErrorCode.None, found, offset);
    }

    /// <summary>Leader epochs never change on this single node (always 0), so every epoch ends at the high watermark.</summary>
    public ResponseWriter HandleOffsetForLeaderEpoch(RequestContext context, ref KafkaReader reader)
    {
        var version = context.ApiVersion;
        var response = new ResponseWriter(context.CorrelationId, 256);
        if (version >= 2)
        {
            response.WriteInt32(0);
        }

        var topicCount = reader.ReadArrayCount(6);
        response.WriteArrayCount(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            var topic = topics.Find(name);
            response.WriteString(name);
            var partitionCount = reader.ReadArrayCount(8);
            response.WriteArrayCount(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                if (version >= 2)
                {
                    reader.ReadInt32();
                }

                reader.ReadInt32();
                var log = topic?.Partition(index);
                response.WriteInt16(log is null ? ErrorCode.UnknownTopicOrPartition : ErrorCode.None);
                response.WriteInt32(index);
                if (version >= 1)
                {
                    response.WriteInt32(log is null ? -1 : 0);
                }

                response.WriteInt64(log?.HighWatermark ?? -1);
            }
        }

        return response;
    }
}
