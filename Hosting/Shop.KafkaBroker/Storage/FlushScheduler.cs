using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;

namespace Shop.KafkaBroker.Storage;

/// <summary>Something whose appended bytes the scheduler makes durable (a partition log, the offsets log).</summary>
public interface IFlushable
{
    /// <summary>fsyncs what was appended so far and publishes it as durable; throws <see cref="IOException"/> when it failed.</summary>
    void FlushToDisk();
}

/// <summary>
/// Group commit. Every append takes a ticket (a sequence number) and marks its log dirty, which wakes one
/// flusher loop; it takes all dirty logs, fsyncs them and then releases every ticket issued before it started.
/// Appends that arrive during an fsync ride on the next one, so under load many produce requests share
/// one fsync. With <see cref="FlushPolicy.Interval"/> the same loop runs on a timer and nobody waits. When an
/// fsync fails, every ticket of that round fails too: its data may never reach the disk, so it must not be acknowledged.
/// </summary>
public sealed partial class FlushScheduler : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<IFlushable> _dirty = [];
    private int _disposed;
    private readonly Queue<(long Ticket, TaskCompletionSource Waiter)> _waiters = new();
    // A kernel event rather than SemaphoreSlim: the flusher waits up to a thousand times a second, and
    // SemaphoreSlim spins (sched_yield) before each block, which costs a shared 2-core machine dearly.
    private readonly AutoResetEvent _wake = new(initialState: false);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<FlushScheduler> _logger;
    private readonly Thread _loop;
    private readonly List<(long After, long UpTo)> _failedRounds = [];
    private long _lastTicket;
    private long _durableTicket;

    public FlushScheduler(BrokerOptions options, ILogger<FlushScheduler> logger)
    {
        Policy = options.Flush;
        _logger = logger;
        var interval = TimeSpan.FromMilliseconds(options.FlushIntervalMs);
        _loop = new Thread(() =>
        {
            if (Policy == FlushPolicy.Always)
            {
                FlushOnDemand();
            }
            else
            {
                FlushPeriodically(interval);
            }
        })
        {
            IsBackground = true,
            Name = "kafka-flusher",
        };
        _loop.Start();
    }

    public FlushPolicy Policy { get; }

    /// <summary>Called by a log right after it appended; returns the ticket to wait for.</summary>
    public long MarkDirty(IFlushable log)
    {
        bool wake;
        long ticket;
        lock (_lock)
        {
            wake = _dirty.Count == 0 && Policy == FlushPolicy.Always;
            _dirty.Add(log);
            ticket = ++_lastTicket;
        }

        if (wake)
        {
            _wake.Set();
        }

        return ticket;
    }

    /// <summary>Completes once everything appended up to <paramref name="ticket"/> is on disk.</summary>
    public Task WaitDurableAsync(long ticket)
    {
        if (Policy != FlushPolicy.Always)
        {
            return Task.CompletedTask;
        }

        lock (_lock)
        {
            if (IsFailed(ticket))
            {
                return Task.FromException(FlushFailed());
            }

            if (ticket <= _durableTicket)
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue((ticket, waiter));
            return waiter.Task;
        }
    }

    /// <summary>fsync blocks, so the flusher has its own thread instead of holding a pool thread.</summary>
    private void FlushOnDemand()
    {
        WaitHandle[] handles = [_wake, _stopping.Token.WaitHandle];
        while (WaitHandle.WaitAny(handles) == 0)
        {
            while (FlushOnce())
            {
            }
        }
    }

    private void FlushPeriodically(TimeSpan interval)
    {
        while (!_stopping.Token.WaitHandle.WaitOne(interval))
        {
            FlushOnce();
        }
    }

    /// <summary>One group commit; true when more appends arrived meanwhile.</summary>
    private bool FlushOnce()
    {
        IFlushable[] logs;
        long target;
        lock (_lock)
        {
            logs = [.. _dirty];
            _dirty.Clear();
            target = _lastTicket;
        }

        var failed = false;
        foreach (var log in logs)
        {
            try
            {
                log.FlushToDisk();
            }
            catch (IOException ex)
            {
                LogFlushFailed(_logger, log, ex.Message, ex);
                failed = true;
            }
            catch (ObjectDisposedException ex)
            {
                // A log closed meanwhile (its topic deleted): nothing of it is left to make durable.
                LogFlushFailed(_logger, log, ex.Message, ex);
            }
        }

        lock (_lock)
        {
            // Tickets are not tied to one log, so a failed round fails every ticket it covered.
            if (failed)
            {
                AddFailedRange(target);
            }

            _durableTicket = Math.Max(_durableTicket, target);
            while (_waiters.TryPeek(out var head) && head.Ticket <= _durableTicket)
            {
                var waiter = _waiters.Dequeue();
                if (failed || IsFailed(waiter.Ticket))
                {
                    waiter.Waiter.TrySetException(FlushFailed());
                }
                else
                {
                    waiter.Waiter.TrySetResult();
                }
            }

            return _dirty.Count > 0;
        }
    }

    /// <summary>
    /// Fails every ticket not yet durable up to <paramref name="ticket"/>, even one a later round covers: a log
    /// dropped those appends after its fsync failed. Called under the log's lock, before it takes new tickets.
    /// </summary>
    public void Discard(long ticket)
    {
        lock (_lock)
        {
            AddFailedRange(ticket);
        }
    }

    private void AddFailedRange(long upTo)
    {
        if (upTo <= _durableTicket)
        {
            return;
        }

        // Consecutive failures (a dying disk) extend one range rather than growing the list.
        if (_failedRounds.Count > 0 && _failedRounds[^1].UpTo >= _durableTicket)
        {
            _failedRounds[^1] = (_failedRounds[^1].After, Math.Max(_failedRounds[^1].UpTo, upTo));
        }
        else
        {
            _failedRounds.Add((_durableTicket, upTo));
        }
    }

    private bool IsFailed(long ticket) => _failedRounds.Exists(round => ticket > round.After && ticket <= round.UpTo);

    private static IOException FlushFailed() => new("fsync failed: the appended data may not be on disk.");

    /// <summary>Flushes everything still dirty (shutdown).</summary>
    public void FlushAll() => FlushOnce();

    public async ValueTask DisposeAsync()
    {
        // Disposed by the server's StopAsync and again by the service provider at shutdown.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        _loop.Join();
        FlushOnce();
        _stopping.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "fsync of {Log} failed: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, IFlushable log, string reason, Exception exception);
}
