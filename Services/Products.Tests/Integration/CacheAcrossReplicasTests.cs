using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Products.Api.Caching;
using Products.Api.Infrastructure;
using StackExchange.Redis;

namespace Products.Tests.Integration;

/// <summary>Two replicas of the catalog cache, each with its own memory level and Redis connection, sharing one real Redis.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class CacheAcrossReplicasTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private Replica _a = null!;
    private Replica _b = null!;

    public async Task InitializeAsync()
    {
        _a = await Replica.StartAsync(infrastructure.RedisConnectionString);
        _b = await Replica.StartAsync(infrastructure.RedisConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Theory]
    [InlineData(CatalogCache.CatalogTag)]
    [InlineData("product:1")]
    public async Task A_change_invalidated_on_one_replica_is_gone_from_the_other_when_the_call_returns(string tag)
    {
        var ct = Timeout();
        var key = "test:" + Guid.NewGuid();
        await _a.KnowTagAsync(tag, ct);
        await _b.KnowTagAsync(tag, ct);
        await _a.GetAsync(key, "v1", [tag], ct);

        // B now holds the entry in its own memory level: A's from Redis, or its own if A's write (in the background) was not there yet.
        var held = await _b.GetAsync(key, "v1 read by B", [tag], ct);
        Assert.Equal(held, await _b.GetAsync(key, "unexpected", [tag], ct));

        await _a.Invalidator.InvalidateAsync([tag], ct);

        // No wait: when InvalidateAsync returns, B has dropped its copy.
        Assert.Equal("v2", await _b.GetAsync(key, "v2", [tag], ct));
    }

    [Fact]
    public async Task A_replica_that_does_not_listen_yet_invalidates_without_waiting_for_acknowledgements_it_cannot_hear()
    {
        var ct = Timeout();
        var key = "test:" + Guid.NewGuid();
        var tag = "product:" + Guid.NewGuid();
        await _b.KnowTagAsync(tag, ct);
        Assert.Equal("v1", await _b.GetAsync(key, "v1", [tag], ct));

        // Its start: migrations seed the catalog before the invalidator subscribes. B acknowledges to a channel nobody
        // listens to yet; waiting (10 min in these replicas) would outlast the test's 30 s, which cancels the wait.
        await using var starting = await Replica.StartAsync(infrastructure.RedisConnectionString, subscribe: false);
        await starting.Invalidator.InvalidateAsync([tag], ct);

        // Not waited for, B still drops its copy, a moment later.
        while (await _b.GetAsync(key, "v2", [tag], ct) != "v2")
        {
            await Task.Delay(10, ct);
        }
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    /// <summary>What one products replica has of the cache: HybridCache over its own Redis connection, and the invalidator.</summary>
    private sealed class Replica(ServiceProvider services) : IAsyncDisposable
    {
        public CatalogCache Cache { get; } = services.GetRequiredService<CatalogCache>();

        public CatalogCacheInvalidator Invalidator { get; } = services.GetRequiredService<CatalogCacheInvalidator>();

        public static async Task<Replica> StartAsync(string redisConnectionString, bool subscribe = true)
        {
            var services = new ServiceCollection()
                .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
                .AddMetrics()
                .AddSingleton<IConnectionMultiplexer>(await ConnectionMultiplexer.ConnectAsync(redisConnectionString))
                .AddSingleton<ProductsMetrics>()
                .AddSingleton<CatalogCache>()
                // Waits for every acknowledgement without the 1 s limit: one that is never counted (the sender's own,
                // or the other replica's) then makes the test time out instead of passing a second later.
                .AddSingleton(sp => new CatalogCacheInvalidator(
                    sp.GetRequiredService<HybridCache>(), sp.GetRequiredService<IConnectionMultiplexer>(), TimeProvider.System,
                    sp.GetRequiredService<ILogger<CatalogCacheInvalidator>>())
                {
                    AckTimeout = TimeSpan.FromMinutes(10),
                });
            services.AddStackExchangeRedisCache(options => options.Configuration = redisConnectionString);
            services.AddHybridCache();
            var provider = services.BuildServiceProvider();
            if (subscribe)
            {
                await ((IHostedService)provider.GetRequiredService<CatalogCacheInvalidator>()).StartAsync(CancellationToken.None);
            }

            return new Replica(provider);
        }

        /// <summary>The cached value, or <paramref name="fresh"/> if the cache had to ask its factory.</summary>
        public async Task<string> GetAsync(string key, string fresh, string[] tags, CancellationToken cancellationToken) =>
            await Cache.GetOrCreateAsync(key, "test", fresh, static (value, _) => ValueTask.FromResult(value), tags, cancellationToken);

        /// <summary>
        /// Waits until this replica has read the tag's last invalidation from Redis. Until then HybridCache treats
        /// entries with the tag as invalid (a miss, never a stale hit), which would make "is it cached?" a race.
        /// </summary>
        public async Task KnowTagAsync(string tag, CancellationToken cancellationToken)
        {
            // Known once a read is a hit: it returns what the read before it stored. Comparing with the very first
            // value instead would wait forever whenever that one was replaced by a miss while the tag was pending.
            var probe = "probe:" + Guid.NewGuid();
            var previous = await GetAsync(probe, Guid.NewGuid().ToString(), [tag], cancellationToken);
            while (await GetAsync(probe, Guid.NewGuid().ToString(), [tag], cancellationToken) is var current && current != previous)
            {
                previous = current;
                await Task.Delay(10, cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Invalidator.StopAsync(CancellationToken.None);
            await services.DisposeAsync();
        }
    }
}
