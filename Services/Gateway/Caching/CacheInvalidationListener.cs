using Gateway.Configuration;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Caching;

/// <summary>
/// Keeps the gateway's response cache in step with the services behind it. It joins the services' own invalidation
/// channel (<see cref="CacheInvalidations"/>): every invalidation drops the gateway's responses carrying any of its
/// tags, then is acknowledged, so an admin's change returns only once the gateway has forgotten the old data too.
/// </summary>
/// <remarks>
/// Each invalidation is applied twice, at once and <see cref="SecondPassDelay"/> later. Between the two, another
/// replica of the service may not have dropped its own cached copy yet, and a response the gateway fetched from it
/// would carry the old data; the writer waits at most a second for every replica's acknowledgement.
/// While the subscription is down, nothing is cached (<see cref="CacheInvalidationState.IsListening"/>), and everything cached is dropped
/// when it comes back, since invalidations sent in between were lost.
/// </remarks>
public sealed partial class CacheInvalidationListener(
    ResponseCacheConnection redisSettings,
    IOptions<ResponseCacheSettings> settings,
    CacheInvalidationState state,
    IOutputCacheStore store,
    GatewayCacheMetrics metrics,
    TimeProvider time,
    ILogger<CacheInvalidationListener> logger) : BackgroundService
{
    /// <summary>Every response the gateway caches carries this tag as well, so all of them can be dropped at once.</summary>
    public const string EveryResponseTag = "gateway:every-response";

    private static readonly RedisChannel Channel = RedisChannel.Literal(CacheInvalidations.Channel);

    private volatile bool _subscribed;
    private ConnectionMultiplexer? _connection;

    public TimeSpan SecondPassDelay { get; init; } = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.Value.Enabled)
        {
            return;
        }

        if (redisSettings.Options is not { } options)
        {
            LogNoRedis(logger);
            return;
        }

        // Connects in the background: Redis may still be starting, and the gateway serves without the cache meanwhile.
        ConnectionMultiplexer connection;
        try
        {
            connection = _connection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or ArgumentException)
        {
            LogConnectFailed(logger, exception.Message);
            return;
        }

        connection.ConnectionFailed += OnConnectionFailed;
        connection.ConnectionRestored += OnConnectionRestored;

        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var queue = await connection.GetSubscriber().SubscribeAsync(Channel).ConfigureAwait(false);
                queue.OnMessage(OnInvalidationAsync);
                _subscribed = true;
                state.IsListening = true;
                LogListening(logger);
                return;
            }
            catch (RedisException exception)
            {
                LogSubscribeFailed(logger, exception.Message, delay.TotalSeconds);
            }

            await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        state.IsListening = false;
        await base.StopAsync(cancellationToken);
        if (_connection is { } connection)
        {
            connection.ConnectionFailed -= OnConnectionFailed;
            connection.ConnectionRestored -= OnConnectionRestored;
            await connection.CloseAsync(allowCommandsToComplete: false);
            await connection.DisposeAsync();
        }
    }

    /// <summary>Drops the responses tagged with any of <paramref name="tags"/>, now and once more after <see cref="SecondPassDelay"/>.</summary>
    public async Task InvalidateAsync(IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        state.Advance();
        await EvictAsync(tags, cancellationToken);
        _ = EvictAgainLaterAsync(tags);
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
            await InvalidateAsync(tags, CancellationToken.None);
            await _connection!.GetSubscriber().PublishAsync(RedisChannel.Literal(CacheInvalidations.AckChannelOf(sender)), nonce);
        }
        catch (Exception exception)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
        }
    }

    private async Task EvictAsync(IEnumerable<string> tags, CancellationToken cancellationToken)
    {
        foreach (var tag in tags)
        {
            await store.EvictByTagAsync(tag, cancellationToken);
        }

        metrics.Invalidated();
    }

    private async Task EvictAgainLaterAsync(IReadOnlyCollection<string> tags)
    {
        try
        {
            await Task.Delay(SecondPassDelay, time);
            state.Advance();
            await EvictAsync(tags, CancellationToken.None);
        }
        catch (Exception exception)
        {
            LogInvalidationFailed(logger, string.Join(", ", tags), exception.Message);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Subscription && state.IsListening)
        {
            state.IsListening = false;
            LogConnectionLost(logger, args.FailureType.ToString());
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType != ConnectionType.Subscription || !_subscribed)
        {
            return;
        }

        // Whatever was invalidated while the subscription was down never reached the gateway.
        _ = RestoreAsync();

        async Task RestoreAsync()
        {
            try
            {
                await InvalidateAsync([EveryResponseTag], CancellationToken.None);
                state.IsListening = true;
                LogConnectionRestored(logger);
            }
            catch (Exception exception)
            {
                LogInvalidationFailed(logger, EveryResponseTag, exception.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ConnectionStrings:cache is not set: the gateway caches no responses. Reference the Redis resource from the gateway (WithReference(cache)) to turn its response cache on.")]
    private static partial void LogNoRedis(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not set up the connection to Redis for cache invalidations ({Reason}): the gateway caches no responses")]
    private static partial void LogConnectFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for cache invalidations: the response cache is on")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to cache invalidations ({Reason}); responses are not cached until it works. Retrying in {Seconds} s")]
    private static partial void LogSubscribeFailed(ILogger logger, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the cache invalidation channel ({Failure}): responses are not cached until it is back")]
    private static partial void LogConnectionLost(ILogger logger, string failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cache invalidation channel restored: every cached response was dropped, and caching resumes")]
    private static partial void LogConnectionRestored(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropping cached responses tagged {Tags} failed: {Reason}")]
    private static partial void LogInvalidationFailed(ILogger logger, string tags, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a malformed cache invalidation message")]
    private static partial void LogMalformed(ILogger logger);
}

/// <summary>What the response cache policy needs to know of the invalidations: whether they arrive, and how many did.</summary>
public sealed class CacheInvalidationState
{
    private long _epoch;
    private volatile bool _listening;

    /// <summary>Whether invalidations reach the gateway now; responses are cached only while they do.</summary>
    public bool IsListening
    {
        get => _listening;
        set => _listening = value;
    }

    /// <summary>
    /// Counts the invalidations received, each counted before it is applied. A response fetched while the epoch moved
    /// may hold data an invalidation has already dropped, so it is not stored.
    /// </summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    public void Advance() => Interlocked.Increment(ref _epoch);
}
