using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Hybrid;
using StackExchange.Redis;

namespace Products.Api.Caching;

/// <summary>
/// Drops catalog cache entries by tag in every replica, so a change is visible everywhere as soon as the call that
/// made it returns. HybridCache alone cannot do that: <c>RemoveByTagAsync</c> clears this process's memory level and
/// records the invalidation in Redis, but another replica reads a tag's invalidation time from Redis only once and
/// keeps serving its own memory level. So each invalidation is also published on a Redis channel; every replica
/// drops the tags from its own cache and acknowledges (the sender counts its own message's return as its ack), and
/// <see cref="InvalidateAsync"/> waits for as many acknowledgements as Redis counted subscribers (at most
/// <see cref="AckTimeout"/>, so one stuck replica cannot hold writes up).
/// <para>Redis is optional. This replica's memory level drops the tags whatever Redis does; what Redis refused (the
/// tags' times, the message) is retried until it takes it; and a replica that was not listening drops everything
/// once it listens again, since the messages sent meanwhile are lost to it.</para>
/// </summary>
public sealed partial class CatalogCacheInvalidator(HybridCache cache, IConnectionMultiplexer redis, TimeProvider time, ILogger<CatalogCacheInvalidator> logger)
    : IHostedService, IDisposable
{
    public static readonly RedisChannel Channel = RedisChannel.Literal(CacheInvalidations.Channel);

    /// <summary>HybridCache's tag for every entry.</summary>
    private const string EveryEntryTag = "*";

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, PendingAcks> _pending = new();
    private volatile ChannelMessageQueue? _invalidations;
    private volatile ChannelMessageQueue? _acks;
    private readonly ConcurrentDictionary<string, long> _undelivered = new();
    private readonly SemaphoreSlim _retry = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private Task _retrying = Task.CompletedTask;
    private Task _subscribing = Task.CompletedTask;
    private long _epoch;
    private long _generation;
    private long _resubscriptions;

    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The first wait before retrying what Redis refused (an invalidation, the subscription); it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long <see cref="InvalidateAsync"/> waits for a Redis that refused before it leaves the rest to the retry.</summary>
    public TimeSpan RedisWait { get; init; } = TimeSpan.FromSeconds(5);

    private RedisChannel AckChannel => RedisChannel.Literal(CacheInvalidations.AckChannelOf(_instance));

    /// <summary>
    /// Counts the invalidations this replica has applied (its own and others'), each counted before it is applied: a
    /// reader that saw the same epoch before and after reading the database knows no change reached it in between.
    /// </summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>Whether this replica is subscribed to the invalidations (and to their acknowledgements).</summary>
    public bool IsSubscribed => _invalidations is not null && _acks is not null;

    /// <summary>How many times this replica dropped everything it had cached because its subscription came back.</summary>
    public long Resubscriptions => Interlocked.Read(ref _resubscriptions);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _retrying = RetryAsync(_stopping.Token);
        redis.ConnectionRestored += OnConnectionRestored;
        if (!await TrySubscribeAsync())
        {
            // Reads still work from the database and the health check reports Redis; this replica listens once it is up.
            _subscribing = SubscribeLaterAsync(_stopping.Token);
        }
    }

    /// <summary>Subscribes to what is not subscribed yet; false if Redis refused.</summary>
    private async Task<bool> TrySubscribeAsync()
    {
        var subscriber = redis.GetSubscriber();
        try
        {
            if (_invalidations is null)
            {
                var invalidations = await subscriber.SubscribeAsync(Channel);
                invalidations.OnMessage(OnInvalidationAsync);
                _invalidations = invalidations;
            }

            if (_acks is null)
            {
                var acks = await subscriber.SubscribeAsync(AckChannel);
                acks.OnMessage(OnAck);
                _acks = acks;
            }

            return true;
        }
        catch (RedisException exception)
        {
            LogSubscribeFailed(logger, exception.Message);
            return false;
        }
    }

    /// <summary>
    /// Subscribes with backoff until Redis takes it, then drops what was cached meanwhile, unheard invalidations
    /// notwithstanding (<see cref="OnConnectionRestored"/>).
    /// </summary>
    private async Task SubscribeLaterAsync(CancellationToken stoppingToken)
    {
        var delay = RetryDelay;
        do
        {
            await Task.Delay(delay, time, stoppingToken);
            delay = NextDelay(delay);
        }
        while (!await TrySubscribeAsync());

        DropEverything();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionRestored -= OnConnectionRestored;
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_retrying, _subscribing);
        }
        catch (OperationCanceledException)
        {
            // Stopped while retrying: what is left undelivered reaches the other replicas only as their entries expire.
        }

        foreach (var queue in new[] { _invalidations, _acks })
        {
            if (queue is not null)
            {
                try
                {
                    await queue.UnsubscribeAsync();
                }
                catch (RedisException)
                {
                    // Shutting down with Redis gone: there is nothing left to unsubscribe from.
                }
            }
        }
    }

    /// <summary>
    /// Drops every entry with any of <paramref name="tags"/> here and in every other replica. Never throws for Redis
    /// failures: this replica's memory level has dropped every tag when it returns, whatever Redis did, and what Redis
    /// did not take (the tags' invalidation times, the message to the other replicas) is retried until it does.
    /// </summary>
    public Task InvalidateAsync(IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return tags.Count == 0 ? Task.CompletedTask : InvalidateAsync(tags, waitForRedis: true, cancellationToken);
    }

    private async Task InvalidateAsync(IReadOnlyCollection<string> tags, bool waitForRedis, CancellationToken cancellationToken)
    {
        var generation = Interlocked.Increment(ref _generation);
        if (await DistributeAsync(tags, cancellationToken))
        {
            return;
        }

        if (!waitForRedis)
        {
            Remember(tags, generation);
            return;
        }

        // Redis may only be reconnecting (it has just come back; commands fail at once meanwhile): the caller, an
        // admin's change, waits for it a little, as StackExchange.Redis's backlog made it wait, so that the change still
        // returns once every replica and the gateway dropped it. Past that it is Redis that is down: the retry takes over.
        var waited = TimeSpan.Zero;
        for (var delay = RetryDelay; waited + delay <= RedisWait; waited += delay, delay = NextDelay(delay))
        {
            await Task.Delay(delay, time, cancellationToken);
            if (await DistributeAsync(tags, cancellationToken))
            {
                return;
            }
        }

        Remember(tags, generation);
    }

    /// <summary>
    /// Drops every entry with any of <paramref name="tags"/> from this replica's memory level before it returns, and
    /// tells Redis and the other replicas in the background (retried like <see cref="InvalidateAsync"/>'s), so the
    /// caller never waits for Redis, however slow it is to answer.
    /// </summary>
    public void InvalidateWithoutWaiting(IReadOnlyCollection<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);

        // InvalidateAsync clears the memory level before it first waits for Redis (DistributeAsync), and never throws.
        if (tags.Count > 0)
        {
            _ = InvalidateAsync(tags, waitForRedis: false, CancellationToken.None);
        }
    }

    /// <summary>Whether some invalidation has not reached Redis yet (it is being retried).</summary>
    public bool HasUndelivered => !_undelivered.IsEmpty;

    /// <summary>
    /// Invalidates <paramref name="tags"/> here, writes their invalidation times to Redis and tells the other replicas;
    /// false if Redis failed at any of it.
    /// </summary>
    private async Task<bool> DistributeAsync(IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _epoch);

        // One call per tag, all started before any is awaited: HybridCache drops a tag from this process's memory level
        // before it writes the tag's time to Redis, so a failed write leaves no tag here valid, not even the later ones.
        var writes = tags.Select(tag => cache.RemoveByTagAsync(tag, cancellationToken).AsTask()).ToList();
        try
        {
            await Task.WhenAll(writes);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
            return false;
        }

        var nonce = Guid.NewGuid().ToString("N");
        var pending = new PendingAcks();
        _pending[nonce] = pending;
        try
        {
            // Every subscriber acknowledges, this replica included, so the count Redis returns is the count to wait for.
            var receivers = await redis.GetSubscriber().PublishAsync(Channel, CacheInvalidations.Format(_instance, nonce, tags));
            // Before this replica listens (its start, while migrations seed the catalog; or Redis refused the subscription),
            // no acknowledgement can reach it: the others still drop the tags, but waiting for them to say so would only
            // end in a timeout and a warning.
            if (_acks is null)
            {
                LogNotListening(logger, receivers);
            }
            else if (!await pending.WaitAsync(receivers, AckTimeout, cancellationToken))
            {
                LogAcksTimedOut(logger, receivers, pending.Count, AckTimeout.TotalMilliseconds);
            }

            return true;
        }
        catch (RedisException exception)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
            return false;
        }
        finally
        {
            _pending.TryRemove(nonce, out _);
        }
    }

    /// <summary>The wait after <paramref name="delay"/> for the next try: twice as long, at most <see cref="MaxRetryDelay"/>.</summary>
    private TimeSpan NextDelay(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));

    /// <summary>
    /// Keeps <paramref name="tags"/> for <see cref="RetryAsync"/>. Until Redis has their times, entries written there
    /// before the change would look current to another replica, or to this one once restarted.
    /// </summary>
    private void Remember(IReadOnlyCollection<string> tags, long generation)
    {
        foreach (var tag in tags)
        {
            _undelivered[tag] = generation;
        }

        _retry.Release();
    }

    /// <summary>
    /// Delivers what <see cref="InvalidateAsync"/> could not, with backoff from <see cref="RetryDelay"/> to
    /// <see cref="MaxRetryDelay"/>, until Redis takes it. A tag invalidated again meanwhile stays until that one is delivered too.
    /// </summary>
    private async Task RetryAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await _retry.WaitAsync(stoppingToken);
            var delay = RetryDelay;
            while (!_undelivered.IsEmpty)
            {
                await Task.Delay(delay, time, stoppingToken);
                var undelivered = _undelivered.ToArray();
                if (await DistributeAsync([.. undelivered.Select(u => u.Key)], stoppingToken))
                {
                    foreach (var delivered in undelivered)
                    {
                        _undelivered.TryRemove(delivered);
                    }

                    LogDelivered(logger, undelivered.Length);
                    delay = RetryDelay;
                }
                else
                {
                    delay = NextDelay(delay);
                }
            }
        }
    }

    private async Task OnInvalidationAsync(ChannelMessage message)
    {
        if (!CacheInvalidations.TryParse(message.Message.ToString(), out var sender, out var nonce, out var tags))
        {
            LogMalformed(logger);
            return;
        }

        try
        {
            if (sender == _instance)
            {
                // This replica's own message came back: its cache was cleared before publishing, and the ack it
                // counts needs no second trip through Redis.
                Acknowledge(nonce);
                return;
            }

            Interlocked.Increment(ref _epoch);
            await cache.RemoveByTagAsync(tags);
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(CacheInvalidations.AckChannelOf(sender)), nonce);
        }
        catch (Exception exception)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
        }
    }

    /// <summary>
    /// Invalidations published while this replica was not subscribed never reached it (another replica's retry may be
    /// delivered just before this one listens again), so, as the gateway does, it drops everything it has cached. The
    /// wildcard also makes this replica, and any started later, ignore what Redis kept from before.
    /// </summary>
    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Subscription)
        {
            DropEverything();
        }
    }

    private void DropEverything()
    {
        Interlocked.Increment(ref _epoch);
        // Memory is cleared before the call returns (HybridCache does that before it writes Redis).
        _ = DropEverythingAsync();
        Interlocked.Increment(ref _resubscriptions);
        LogResubscribed(logger);
    }

    private async Task DropEverythingAsync()
    {
        try
        {
            await cache.RemoveByTagAsync(EveryEntryTag);
        }
        catch (Exception exception)
        {
            LogInvalidationFailed(logger, EveryEntryTag, exception.Message);
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _retry.Dispose();
    }

    private void OnAck(ChannelMessage message) => Acknowledge(message.Message.ToString());

    private void Acknowledge(string nonce)
    {
        if (_pending.TryGetValue(nonce, out var pending))
        {
            pending.Acknowledge();
        }
    }

    /// <summary>Acknowledgements may arrive before Redis says how many to expect.</summary>
    private sealed class PendingAcks
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _expected = long.MaxValue;
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public void Acknowledge()
        {
            if (Interlocked.Increment(ref _count) >= Interlocked.Read(ref _expected))
            {
                _done.TrySetResult();
            }
        }

        public async Task<bool> WaitAsync(long expected, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Interlocked.Exchange(ref _expected, expected);
            if (Count >= expected)
            {
                return true;
            }

            try
            {
                await _done.Task.WaitAsync(timeout, cancellationToken);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to catalog cache invalidations; other replicas' changes do not reach this one until it has: {Reason}")]
    private static partial void LogSubscribeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invalidating catalog cache tags {Tags} failed: {Reason}")]
    private static partial void LogInvalidationFailed(ILogger logger, string tags, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog cache invalidations reach this replica again: dropped everything cached here, since some may have been missed")]
    private static partial void LogResubscribed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered {Count} catalog cache invalidations that Redis had refused")]
    private static partial void LogDelivered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A catalog cache invalidation reached {Receivers} subscribers; not waiting for their acknowledgements, as this replica does not listen for them yet")]
    private static partial void LogNotListening(ILogger logger, long receivers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Received} of {Expected} replicas acknowledged a catalog cache invalidation within {TimeoutMs} ms")]
    private static partial void LogAcksTimedOut(ILogger logger, long expected, long received, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a malformed catalog cache invalidation message")]
    private static partial void LogMalformed(ILogger logger);
}
