using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace Products.Api.Caching;

/// <summary>
/// HybridCache's second level: Redis, left alone for <see cref="RetryAfter"/> once it fails. HybridCache treats a failed
/// read as a miss and a failed write as lost, but logs each at Error with its stack trace, and a Redis that accepts
/// connections without answering costs every read the command timeout. So after a failure, reads of entries miss and
/// writes of entries are dropped without asking Redis (HybridCache goes to the database and its memory level, as it does on
/// errors); once the window has passed, one call tries Redis again while the others still skip it. The outage is logged
/// once at Warning when it starts and once at Information when Redis answers again.
/// <para>Tags' invalidation times and removals always go to Redis and their failures reach the caller: HybridCache keeps
/// the time it read for a tag (a skipped read, a miss, would mean "never invalidated"; a failure means "invalidated now"),
/// and <see cref="CatalogCacheInvalidator"/> must see a tag's write fail to retry it.</para>
/// </summary>
public sealed partial class CatalogCacheSecondLevel(IBufferDistributedCache redis, TimeProvider time, ILogger<CatalogCacheSecondLevel> logger)
    : IBufferDistributedCache
{
    /// <summary>The prefix of HybridCache's keys for tags' invalidation times (its <c>DefaultHybridCache.TagKeyPrefix</c>).</summary>
    private const string TagKeyPrefix = "__MSFT_HCT__";

    private readonly Lock _lock = new();

    // Changes when an outage starts or ends: what a call begun before then says about Redis is already out of date.
    private long _state;
    private bool _down;
    private long _downSince;
    private long _lastFailure;
    private bool _probing;

    /// <summary>How long after a failure entries skip Redis before one call tries it again.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    public byte[]? Get(string key) => Call(key, () => redis.Get(key), skipped: null);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        CallAsync(key, () => new ValueTask<byte[]?>(redis.GetAsync(key, token)), skipped: null, token).AsTask();

    public bool TryGet(string key, IBufferWriter<byte> destination) => Call(key, () => redis.TryGet(key, destination), skipped: false);

    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default) =>
        CallAsync(key, () => redis.TryGetAsync(key, destination, token), skipped: false, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) =>
        Call(key, () => Done(() => redis.Set(key, value, options)), skipped: false);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        CallAsync(key, () => DoneAsync(redis.SetAsync(key, value, options, token)), skipped: false, token).AsTask();

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) =>
        Call(key, () => Done(() => redis.Set(key, value, options)), skipped: false);

    public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        await CallAsync(key, () => DoneAsync(redis.SetAsync(key, value, options, token)), skipped: false, token);

    public void Refresh(string key) => May(() => Done(() => redis.Refresh(key)), skipped: false);

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        MayAsync(() => DoneAsync(redis.RefreshAsync(key, token)), skipped: false, token).AsTask();

    // A removal that did not happen must not look as if it had: the entry would still be found.
    public void Remove(string key) => Must(() => Done(() => redis.Remove(key)));

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        MustAsync(() => DoneAsync(redis.RemoveAsync(key, token)), token).AsTask();

    private static bool IsTag(string key) => key.StartsWith(TagKeyPrefix, StringComparison.Ordinal);

    /// <summary>A read or write of <paramref name="key"/>: a tag's always goes to Redis, an entry's may be spared.</summary>
    private T Call<T>(string key, Func<T> call, T skipped) => IsTag(key) ? Must(call) : May(call, skipped);

    private ValueTask<T> CallAsync<T>(string key, Func<ValueTask<T>> call, T skipped, CancellationToken token) =>
        IsTag(key) ? MustAsync(call, token) : MayAsync(call, skipped, token);

    private static bool Done(Action call)
    {
        call();
        return true;
    }

    private static async ValueTask<bool> DoneAsync(Task call)
    {
        await call;
        return true;
    }

    private static async ValueTask<bool> DoneAsync(ValueTask call)
    {
        await call;
        return true;
    }

    /// <summary>A call Redis may be spared: <paramref name="skipped"/> without asking it while it is down, or if it fails.</summary>
    private async ValueTask<T> MayAsync<T>(Func<ValueTask<T>> call, T skipped, CancellationToken token)
    {
        if (!TryEnter(out var state))
        {
            return skipped;
        }

        try
        {
            var result = await call();
            Succeeded(state);
            return result;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Abandoned(state);
            throw;
        }
        catch (Exception exception)
        {
            Failed(state, exception);
            return skipped;
        }
    }

    /// <summary>A call that goes to Redis whatever its state, its failure rethrown.</summary>
    private async ValueTask<T> MustAsync<T>(Func<ValueTask<T>> call, CancellationToken token)
    {
        var state = State;
        try
        {
            var result = await call();
            Succeeded(state);
            return result;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
        {
            Failed(state, exception);
            throw;
        }
    }

    private T May<T>(Func<T> call, T skipped)
    {
        if (!TryEnter(out var state))
        {
            return skipped;
        }

        try
        {
            var result = call();
            Succeeded(state);
            return result;
        }
        catch (Exception exception)
        {
            Failed(state, exception);
            return skipped;
        }
    }

    private T Must<T>(Func<T> call)
    {
        var state = State;
        try
        {
            var result = call();
            Succeeded(state);
            return result;
        }
        catch (Exception exception)
        {
            Failed(state, exception);
            throw;
        }
    }

    private long State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>Whether a call that may be spared goes to Redis: always while it is up, and one at a time once the window has passed.</summary>
    private bool TryEnter(out long state)
    {
        lock (_lock)
        {
            state = _state;
            if (!_down)
            {
                return true;
            }

            if (_probing || time.GetElapsedTime(_lastFailure) < RetryAfter)
            {
                return false;
            }

            _probing = true;
            return true;
        }
    }

    private void Succeeded(long state)
    {
        lock (_lock)
        {
            if (!_down || state != _state)
            {
                return;
            }

            _down = false;
            _probing = false;
            _state++;
            LogAnswersAgain(logger, time.GetElapsedTime(_downSince).TotalSeconds);
        }
    }

    private void Failed(long state, Exception exception)
    {
        lock (_lock)
        {
            if (state != _state)
            {
                return;
            }

            if (!_down)
            {
                _down = true;
                _state++;
                _downSince = time.GetTimestamp();
                LogUnavailable(logger, RetryAfter.TotalSeconds, exception.Message);
            }

            _lastFailure = time.GetTimestamp();
            _probing = false;
        }
    }

    /// <summary>The caller gave up: whether Redis answers is still unknown, so another call may try it.</summary>
    private void Abandoned(long state)
    {
        lock (_lock)
        {
            if (state == _state)
            {
                _probing = false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis failed the catalog cache, which goes without it until it answers again, trying it every {RetryAfterSeconds} s: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, double retryAfterSeconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis answers the catalog cache again, after {Seconds:0.#} s without it")]
    private static partial void LogAnswersAgain(ILogger logger, double seconds);
}
