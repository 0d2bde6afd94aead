using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Shop.EventBus;

/// <summary>
/// The partitions this replica's consumer holds, each with a worker that handles its messages one at a time, in
/// offset order, while workers of different partitions run side by side (at most
/// <see cref="EventBusOptions.MaxConcurrency"/> handling at once, and at most a topic's own limit of
/// <see cref="EventBusOptions.TopicConcurrency"/> for that topic's partitions).
/// </summary>
/// <remarks>
/// <para>
/// The consumer's thread polls Kafka, hands each message to its partition's worker, pauses a partition whose worker
/// falls <see cref="MaxQueued"/> messages behind, and commits. librdkafka calls the rebalance callbacks on that
/// thread, inside <c>Consume</c>: a revoked partition's worker is finished and its handled offset committed before
/// the partition is given up, so no other replica starts on a message this one is still handling.
/// </para>
/// <para>
/// Only offsets of handled messages are committed (the worker's next offset), in batches: at most every
/// <see cref="CommitInterval"/>, and before partitions are given up or the consumer closes. A commit is a synchronous
/// round trip to the broker on the polling thread, so committing after every message would cost a round trip per
/// message under load. A crash loses at most those uncommitted offsets; their messages come again and the inbox
/// skips them.
/// </para>
/// </remarks>
internal sealed partial class ConsumerAssignment(TimeProvider timeProvider)
{
    public const int MaxQueued = 20;
    public static readonly TimeSpan CommitInterval = TimeSpan.FromMilliseconds(200);

    private readonly Lock _lock = new();
    private readonly Dictionary<TopicPartition, PartitionWorker> _workers = [];
    private Func<IReadOnlyList<ConsumeResult<string, byte[]>>, CancellationToken, Task>? _handle;
    private SemaphoreSlim? _concurrency;
    private Dictionary<string, SemaphoreSlim> _topicConcurrency = [];
    private int _maxBatch = 1;
    private CancellationToken _stopping;
    private long _lastCommit;

    public ILogger? Logger { get; private set; }

    public IReadOnlyCollection<TopicPartition> Partitions
    {
        get
        {
            lock (_lock)
            {
                return [.. _workers.Keys];
            }
        }
    }

    /// <summary>Called by the consumer before it subscribes; the rebalance callbacks only run after that.</summary>
    /// <param name="handle">Handles a run of one partition's consecutive messages (at most <paramref name="maxBatch"/>), in order.</param>
    /// <param name="topicConcurrency">Lower limits for single topics, by full topic name.</param>
    public void Start(
        Func<IReadOnlyList<ConsumeResult<string, byte[]>>, CancellationToken, Task> handle,
        int maxConcurrency,
        IReadOnlyDictionary<string, int> topicConcurrency,
        int maxBatch,
        ILogger logger,
        CancellationToken stopping)
    {
        _handle = handle;
        _maxBatch = maxBatch;
        _concurrency = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        _topicConcurrency = topicConcurrency.ToDictionary(t => t.Key, t => new SemaphoreSlim(t.Value, t.Value), StringComparer.Ordinal);
        Logger = logger;
        _stopping = stopping;
        _lastCommit = timeProvider.GetTimestamp();
    }

    /// <summary>Queues a message for its partition's worker; pauses the partition if the worker is too far behind.</summary>
    public void Enqueue(IConsumer<string, byte[]> consumer, ConsumeResult<string, byte[]> result)
    {
        var worker = WorkerFor(result.TopicPartition);
        if (worker.Enqueue(result) >= MaxQueued && !worker.Paused)
        {
            consumer.Pause([result.TopicPartition]);
            worker.Paused = true;
        }
    }

    /// <summary>
    /// Runs on the consumer's thread between polls: surfaces a worker's failure, resumes partitions whose workers
    /// caught up, and commits handled offsets once the last commit is old enough.
    /// </summary>
    public void Maintain(IConsumer<string, byte[]> consumer)
    {
        var workers = Snapshot();
        foreach (var worker in workers)
        {
            if (worker.Failure is { } failure)
            {
                failure.Throw();
            }

            if (worker.Paused && worker.Queued <= MaxQueued / 2)
            {
                consumer.Resume([worker.Partition]);
                worker.Paused = false;
            }
        }

        if (timeProvider.GetElapsedTime(_lastCommit) >= CommitInterval)
        {
            Commit(consumer, workers);
        }
    }

    public void Assigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            WorkerFor(partition);
        }

        if (Logger is { } logger)
        {
            LogAssigned(logger, Describe(partitions));
        }
    }

    /// <summary>Partitions given up in a rebalance: their workers finish, then their handled offsets are committed.</summary>
    public void Revoked(IConsumer<string, byte[]> consumer, IReadOnlyCollection<TopicPartition> partitions)
    {
        var workers = Finish(partitions);
        Commit(consumer, workers);
        if (Logger is { } logger)
        {
            LogRevoked(logger, Describe(partitions));
        }
    }

    /// <summary>Partitions the group took away without this consumer (it was too slow to poll): nothing can be committed.</summary>
    public void Lost(IReadOnlyCollection<TopicPartition> partitions)
    {
        Finish(partitions);
        if (Logger is { } logger)
        {
            LogLost(logger, Describe(partitions));
        }
    }

    /// <summary>At shutdown: every worker finishes the message in hand (or is cancelled), then what was handled is committed.</summary>
    public void Stop(IConsumer<string, byte[]> consumer) => Commit(consumer, Finish(Partitions));

    private PartitionWorker WorkerFor(TopicPartition partition)
    {
        lock (_lock)
        {
            if (!_workers.TryGetValue(partition, out var worker))
            {
                worker = new PartitionWorker(partition, _handle!, _concurrency!, _topicConcurrency.GetValueOrDefault(partition.Topic), _maxBatch, _stopping);
                _workers.Add(partition, worker);
            }

            return worker;
        }
    }

    private List<PartitionWorker> Snapshot()
    {
        lock (_lock)
        {
            return [.. _workers.Values];
        }
    }

    /// <summary>Stops taking messages for the partitions and waits (on the consumer's thread) for their workers.</summary>
    private List<PartitionWorker> Finish(IEnumerable<TopicPartition> partitions)
    {
        List<PartitionWorker> finished = [];
        lock (_lock)
        {
            foreach (var partition in partitions)
            {
                if (_workers.Remove(partition, out var worker))
                {
                    finished.Add(worker);
                }
            }
        }

        foreach (var worker in finished)
        {
            worker.Complete();
        }

        Task.WhenAll(finished.Select(w => w.Completion)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
        return finished;
    }

    private void Commit(IConsumer<string, byte[]> consumer, IEnumerable<PartitionWorker> workers)
    {
        _lastCommit = timeProvider.GetTimestamp();
        var offsets = workers
            .Select(w => (Worker: w, Next: w.Handled))
            .Where(w => w.Next > w.Worker.Committed)
            .ToList();
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets.Select(o => new TopicPartitionOffset(o.Worker.Partition, o.Next)));
            foreach (var (worker, next) in offsets)
            {
                worker.Committed = next;
            }
        }
        catch (KafkaException exception)
        {
            // Typically the group moved on: the messages come again and the inbox skips them.
            if (Logger is { } logger)
            {
                LogCommitFailed(logger, Describe(offsets.Select(o => o.Worker.Partition)), exception.Error.Reason);
            }
        }
    }

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.GroupBy(p => p.Topic).Select(g => $"{g.Key}[{string.Join(",", g.Select(p => p.Partition.Value).Order())}]"));

    /// <summary>
    /// Handles one partition's messages in order; records the offset after the last one handled. Messages that queued
    /// up while the previous ones were handled are handed over together, so that a busy partition can be handled in
    /// fewer transactions.
    /// </summary>
    private sealed class PartitionWorker
    {
        private readonly Channel<ConsumeResult<string, byte[]>> _queue =
            Channel.CreateUnbounded<ConsumeResult<string, byte[]>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        private int _queued;
        private long _handled = -1;

        public PartitionWorker(
            TopicPartition partition,
            Func<IReadOnlyList<ConsumeResult<string, byte[]>>, CancellationToken, Task> handle,
            SemaphoreSlim concurrency,
            SemaphoreSlim? topicConcurrency,
            int maxBatch,
            CancellationToken stopping)
        {
            Partition = partition;
            Completion = Task.Run(() => RunAsync(handle, concurrency, topicConcurrency, maxBatch, stopping), CancellationToken.None);
        }

        public TopicPartition Partition { get; }

        public Task Completion { get; }

        /// <summary>Queued or being handled.</summary>
        public int Queued => Volatile.Read(ref _queued);

        /// <summary>The offset after the last handled message; -1 before the first.</summary>
        public long Handled => Volatile.Read(ref _handled);

        /// <summary>Touched only on the consumer's thread.</summary>
        public long Committed { get; set; } = -1;

        /// <summary>Touched only on the consumer's thread.</summary>
        public bool Paused { get; set; }

        public ExceptionDispatchInfo? Failure { get; private set; }

        public int Enqueue(ConsumeResult<string, byte[]> result)
        {
            var queued = Interlocked.Increment(ref _queued);
            _queue.Writer.TryWrite(result);
            return queued;
        }

        public void Complete() => _queue.Writer.TryComplete();

        private async Task RunAsync(
            Func<IReadOnlyList<ConsumeResult<string, byte[]>>, CancellationToken, Task> handle,
            SemaphoreSlim concurrency,
            SemaphoreSlim? topicConcurrency,
            int maxBatch,
            CancellationToken stopping)
        {
            var batch = new List<ConsumeResult<string, byte[]>>(maxBatch);
            try
            {
                await foreach (var first in _queue.Reader.ReadAllAsync(CancellationToken.None))
                {
                    // The topic's slot first, then the shared one: a worker waiting for its topic holds no shared slot.
                    await (topicConcurrency?.WaitAsync(stopping) ?? Task.CompletedTask);
                    try
                    {
                        await concurrency.WaitAsync(stopping);
                        try
                        {
                            // Taken after the wait for a slot: what arrived meanwhile joins the batch.
                            batch.Add(first);
                            while (batch.Count < maxBatch && _queue.Reader.TryRead(out var next))
                            {
                                batch.Add(next);
                            }

                            await handle(batch, stopping);
                        }
                        finally
                        {
                            concurrency.Release();
                        }
                    }
                    finally
                    {
                        topicConcurrency?.Release();
                    }

                    Volatile.Write(ref _handled, batch[^1].Offset.Value + 1);
                    Interlocked.Add(ref _queued, -batch.Count);
                    batch.Clear();
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // Stopping: the message in hand was not handled, so its offset is not committed.
            }
            catch (Exception exception)
            {
                Failure = ExceptionDispatchInfo.Capture(exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions assigned: {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}")]
    private static partial void LogRevoked(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partitions lost (the group moved on without this consumer): {Partitions}; their uncommitted messages will be redelivered")]
    private static partial void LogLost(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing the offsets of {Partitions} failed ({Reason}); those messages will be delivered again and skipped by the inbox")]
    private static partial void LogCommitFailed(ILogger logger, string partitions, string reason);
}
