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
/// </summary>
public sealed partial class CatalogCacheInvalidator(HybridCache cache, IConnectionMultiplexer redis, ILogger<CatalogCacheInvalidator> logger)
    : IHostedService
{
    public static readonly RedisChannel Channel = RedisChannel.Literal(CacheInvalidations.Channel);

    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, PendingAcks> _pending = new();
    private ChannelMessageQueue? _invalidations;
    private ChannelMessageQueue? _acks;
    private long _epoch;

    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(1);

    private RedisChannel AckChannel => RedisChannel.Literal(CacheInvalidations.AckChannelOf(_instance));

    /// <summary>
    /// Counts the invalidations this replica has applied (its own and others'), each counted before it is applied: a
    /// reader that saw the same epoch before and after reading the database knows no change reached it in between.
    /// </summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var subscriber = redis.GetSubscriber();
        try
        {
            _invalidations = await subscriber.SubscribeAsync(Channel);
            _invalidations.OnMessage(OnInvalidationAsync);
            _acks = await subscriber.SubscribeAsync(AckChannel);
            _acks.OnMessage(OnAck);
        }
        catch (RedisException exception)
        {
            // Reads still work from the database; the health check reports Redis, and writes wait no longer than the timeout.
            LogSubscribeFailed(logger, exception.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
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

    /// <summary>Drops every entry with any of <paramref name="tags"/> here and in every other replica. Never throws for Redis failures.</summary>
    public async Task InvalidateAsync(IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count == 0)
        {
            return;
        }

        try
        {
            Interlocked.Increment(ref _epoch);
            await cache.RemoveByTagAsync(tags, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
        }

        var nonce = Guid.NewGuid().ToString("N");
        var pending = new PendingAcks();
        _pending[nonce] = pending;
        try
        {
            // Every subscriber acknowledges, this replica included, so the count Redis returns is the count to wait for.
            var receivers = await redis.GetSubscriber().PublishAsync(Channel, CacheInvalidations.Format(_instance, nonce, tags));
            if (!await pending.WaitAsync(receivers, AckTimeout, cancellationToken))
            {
                LogAcksTimedOut(logger, receivers, pending.Count, AckTimeout.TotalMilliseconds);
            }
        }
        catch (RedisException exception)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
        }
        finally
        {
            _pending.TryRemove(nonce, out _);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to catalog cache invalidations; other replicas' changes reach this one only as entries expire: {Reason}")]
    private static partial void LogSubscribeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invalidating catalog cache tags {Tags} failed: {Reason}")]
    private static partial void LogInvalidationFailed(ILogger logger, string tags, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Received} of {Expected} replicas acknowledged a catalog cache invalidation within {TimeoutMs} ms")]
    private static partial void LogAcksTimedOut(ILogger logger, long expected, long received, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a malformed catalog cache invalidation message")]
    private static partial void LogMalformed(ILogger logger);
}
