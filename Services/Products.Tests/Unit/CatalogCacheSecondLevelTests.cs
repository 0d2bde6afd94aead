using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Products.Api.Caching;
using Shop.Testing;

namespace Products.Tests.Unit;

/// <summary>HybridCache's second level over a Redis that fails when told to, on a clock the test moves.</summary>
public sealed class CatalogCacheSecondLevelTests : IDisposable
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private static readonly DistributedCacheEntryOptions Entry = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };

    private readonly FakeRedis _redis = new();
    private readonly ManualTime _time = new();
    private readonly LogCollector _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly CatalogCacheSecondLevel _cache;

    public CatalogCacheSecondLevelTests()
    {
        _loggers = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        _cache = new CatalogCacheSecondLevel(_redis, _time, _loggers.CreateLogger<CatalogCacheSecondLevel>()) { RetryAfter = RetryAfter };
    }

    public void Dispose() => _loggers.Dispose();

    [Fact]
    public async Task After_a_failure_entries_skip_Redis_until_the_window_has_passed_then_one_call_tries_it_again()
    {
        _redis.Failure = new TimeoutException("Timeout awaiting response");
        Assert.False(await _cache.TryGetAsync("a", new ArrayBufferWriter<byte>()));
        Assert.Equal(1, _redis.Calls);

        // Within the window: reads miss and writes are dropped, Redis is not asked.
        Assert.False(await _cache.TryGetAsync("b", new ArrayBufferWriter<byte>()));
        Assert.Null(await _cache.GetAsync("b"));
        await _cache.SetAsync("c", new ReadOnlySequence<byte>([1]), Entry);
        _time.Advance(RetryAfter - TimeSpan.FromTicks(1));
        Assert.False(await _cache.TryGetAsync("b", new ArrayBufferWriter<byte>()));
        Assert.Equal(1, _redis.Calls);

        _redis.Failure = null;
        _time.Advance(TimeSpan.FromTicks(1));
        await _cache.SetAsync("c", new ReadOnlySequence<byte>([1]), Entry);
        Assert.Equal(2, _redis.Calls);

        // Redis answered: every call goes to it again.
        Assert.True(await _cache.TryGetAsync("c", new ArrayBufferWriter<byte>()));
        Assert.Equal([1], await _cache.GetAsync("c"));
        Assert.Equal(4, _redis.Calls);
    }

    [Fact]
    public async Task An_outage_is_logged_once_as_a_warning_with_its_reason_and_its_end_once_as_information()
    {
        _redis.Failure = new InvalidOperationException("No connection is active/available to service this operation");
        for (var read = 0; read < 20; read++)
        {
            Assert.False(await _cache.TryGetAsync("a" + read, new ArrayBufferWriter<byte>()));
            await _cache.SetAsync("a" + read, new ReadOnlySequence<byte>([1]), Entry);
            // Every few reads the window has passed, and the read that tries Redis again fails too.
            _time.Advance(RetryAfter / 3);
        }

        Assert.True(_redis.Calls > 1);
        var warning = Assert.Single(_logs.Entries);
        Assert.Equal((LogLevel.Warning, null), (warning.Level, warning.Exception));
        Assert.Contains("No connection is active/available", warning.Message, StringComparison.Ordinal);

        _redis.Failure = null;
        _time.Advance(RetryAfter);
        Assert.False(await _cache.TryGetAsync("b", new ArrayBufferWriter<byte>()));
        Assert.False(await _cache.TryGetAsync("c", new ArrayBufferWriter<byte>()));

        Assert.Equal([LogLevel.Warning, LogLevel.Information], _logs.Entries.Select(e => e.Level));
    }

    [Fact]
    public async Task While_one_read_waits_for_a_silent_Redis_after_the_window_the_others_skip_it()
    {
        _redis.Failure = new TimeoutException("Timeout awaiting response");
        Assert.False(await _cache.TryGetAsync("a", new ArrayBufferWriter<byte>()));
        _time.Advance(RetryAfter);

        var silent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _redis.Silent = silent;
        var probe = _cache.TryGetAsync("a", new ArrayBufferWriter<byte>()).AsTask();
        var others = Enumerable.Range(0, 10).Select(read => _cache.TryGetAsync("b" + read, new ArrayBufferWriter<byte>()).AsTask()).ToList();

        Assert.Equal(2, _redis.Calls);
        Assert.False(probe.IsCompleted);

        // Its timeout: Redis is left alone for another window.
        silent.SetResult();
        Assert.False(await probe);
        Assert.All(await Task.WhenAll(others), Assert.False);
        Assert.False(await _cache.TryGetAsync("c", new ArrayBufferWriter<byte>()));
        Assert.Equal(2, _redis.Calls);
    }

    [Fact]
    public async Task Through_HybridCache_reads_go_on_without_errors_and_tag_invalidations_still_reach_Redis_or_fail()
    {
        await using var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs))
            .AddSingleton<IDistributedCache>(_cache)
            .AddHybridCache().Services
            .BuildServiceProvider();
        var hybrid = services.GetRequiredService<HybridCache>();
        _redis.Failure = new TimeoutException("Timeout awaiting response");

        for (var read = 0; read < 10; read++)
        {
            Assert.Equal(read, await hybrid.GetOrCreateAsync("item:" + read, _ => ValueTask.FromResult(read), tags: ["catalog"]));
        }

        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.Single(_logs.Entries, e => e.Level == LogLevel.Warning);

        // Within the window: a tag's invalidation time is not dropped like an entry, its failure reaches the caller
        // (the invalidator retries it), and once Redis takes it, Redis answers again.
        var calls = _redis.Calls;
        await Assert.ThrowsAsync<TimeoutException>(() => hybrid.RemoveByTagAsync("catalog").AsTask());
        Assert.Equal(calls + 1, _redis.Calls);

        _redis.Failure = null;
        await hybrid.RemoveByTagAsync("catalog");
        Assert.Contains(_redis.Keys, key => key.EndsWith("catalog", StringComparison.Ordinal));
        Assert.Equal([LogLevel.Warning, LogLevel.Information], _logs.Entries.Select(e => e.Level));
    }

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>
    /// Redis as a dictionary that counts the calls reaching it; it fails with <see cref="Failure"/> if set, after
    /// <see cref="Silent"/> completes if set too (a Redis that does not answer until the command times out).
    /// </summary>
    private sealed class FakeRedis : IBufferDistributedCache
    {
        private readonly ConcurrentDictionary<string, byte[]> _values = new();
        private int _calls;

        public Exception? Failure { get; set; }

        public TaskCompletionSource? Silent { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        public ICollection<string> Keys => _values.Keys;

        public byte[]? Get(string key) => Call() ? _values.GetValueOrDefault(key) : null;

        public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
        {
            await CallAsync();
            return _values.GetValueOrDefault(key);
        }

        public bool TryGet(string key, IBufferWriter<byte> destination) => Call() && Copy(key, destination);

        public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
        {
            await CallAsync();
            return Copy(key, destination);
        }

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
        {
            Call();
            _values[key] = value;
        }

        public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            await CallAsync();
            _values[key] = value;
        }

        public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
        {
            Call();
            _values[key] = value.ToArray();
        }

        public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            await CallAsync();
            _values[key] = value.ToArray();
        }

        public void Refresh(string key) => Call();

        public async Task RefreshAsync(string key, CancellationToken token = default) => await CallAsync();

        public void Remove(string key)
        {
            Call();
            _values.TryRemove(key, out _);
        }

        public async Task RemoveAsync(string key, CancellationToken token = default)
        {
            await CallAsync();
            _values.TryRemove(key, out _);
        }

        private bool Copy(string key, IBufferWriter<byte> destination)
        {
            if (!_values.TryGetValue(key, out var value))
            {
                return false;
            }

            destination.Write(value);
            return true;
        }

        private bool Call()
        {
            Interlocked.Increment(ref _calls);
            return Failure is null ? true : throw Failure;
        }

        private async Task CallAsync()
        {
            Interlocked.Increment(ref _calls);
            if (Silent is { } silent)
            {
                await silent.Task;
            }

            if (Failure is { } failure)
            {
                throw failure;
            }
        }
    }
}
