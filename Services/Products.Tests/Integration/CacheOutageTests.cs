using System.Buffers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Products.Api.Caching;
using Products.Api.Catalog;
using Products.Api.Infrastructure;
using Products.Api.Inventory;
using Products.Api.Model;
using Shop.IntegrationEvents;
using Shop.Testing;
using StackExchange.Redis;

namespace Products.Tests.Integration;

/// <summary>
/// The catalog cache wired as the service wires it, on PostgreSQL and on a Redis of the test's own that it kills and
/// starts again. The cache is optional: its outage must cost neither time nor fresh data.
/// </summary>
[Collection(InfrastructureCollection.Name)]
public sealed class CacheOutageTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    /// <summary>
    /// The Redis command timeout the replicas get here: far longer than any step may take (<see cref="StepBound"/>), so
    /// a step that waited for Redis fails the test instead of merely slowing it.
    /// </summary>
    private static readonly TimeSpan RedisTimeout = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan StepBound = TimeSpan.FromSeconds(30);

    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(Timeout());

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    /// <summary>
    /// The saga's mark (tell the other replicas in the background) ends with its transaction, also when the reservation
    /// changed nothing cached (a rejected order): the service pools its contexts, and an admin's stock change that got
    /// a marked context returned before the gateway had dropped the page (CatalogCacheTests, in CI).
    /// </summary>
    [Theory]
    [InlineData(0)] // rejected: no stock changes, nothing to invalidate
    [InlineData(5)] // reserved
    public async Task A_reservation_leaves_no_mark_on_its_context_once_committed(int stock)
    {
        var ct = Timeout();
        await using var replica = await Replica.StartAsync(await infrastructure.CreateEmptyDatabaseAsync(ct), _redis, migrate: true, ct);
        var product = await replica.AddProductAsync("Tent", stock, ct);

        Assert.False(await replica.ReservationLeavesItsMarkAsync(product, 1, ct));
    }

    [Fact]
    public async Task With_Redis_down_a_read_and_a_stock_reservation_do_not_wait_for_the_Redis_timeout()
    {
        var ct = Timeout();
        await using var replica = await Replica.StartAsync(await infrastructure.CreateEmptyDatabaseAsync(ct), _redis, migrate: true, ct);
        var product = await replica.AddProductAsync("Tent", 5, ct);
        await _redis.KillAsync(ct);
        await replica.WaitUntilDisconnectedAsync(ct);

        var item = await replica.Reader.GetItemAsync(product, ct).AsTask().WaitAsync(StepBound, ct);
        var outcome = await replica.ReserveAsync(product, 1, ct).WaitAsync(StepBound, ct);

        Assert.Equal(5, item?.AvailableStock);
        Assert.IsType<ReservationOutcome.Reserved>(outcome);
    }

    [Fact]
    public async Task With_Redis_not_answering_a_stock_reservation_returns_once_this_replica_has_dropped_the_product()
    {
        var ct = Timeout();
        await using var replica = await Replica.StartAsync(await infrastructure.CreateEmptyDatabaseAsync(ct), _redis, migrate: true, ct);
        var product = await replica.AddProductAsync("Tent", 5, ct);
        Assert.Equal(5, (await replica.Reader.GetItemAsync(product, ct))?.AvailableStock);

        await _redis.PauseAsync(ct);
        ReservationOutcome outcome;
        try
        {
            outcome = await replica.ReserveAsync(product, 1, ct).WaitAsync(StepBound, ct);
        }
        finally
        {
            await _redis.ResumeAsync(CancellationToken.None);
        }

        Assert.IsType<ReservationOutcome.Reserved>(outcome);
        // This replica's own message, if it comes back, drops nothing here: only the reservation itself can have.
        Assert.Equal(4, (await replica.Reader.GetItemAsync(product, ct))?.AvailableStock);
    }

    [Fact]
    public async Task An_edit_made_while_Redis_is_down_is_read_at_once_here_and_by_every_replica_once_Redis_is_back()
    {
        var ct = Timeout();
        var database = await infrastructure.CreateEmptyDatabaseAsync(ct);
        await using var writer = await Replica.StartAsync(database, _redis, migrate: true, ct);
        var product = await writer.AddProductAsync("Tent", 5, ct);
        Assert.Equal("Tent", (await writer.Reader.GetItemAsync(product, ct))?.Name);
        // In Redis, as another replica would find it; Redis keeps it through its restart.
        await _redis.WaitForKeyAsync("products:item:" + product, ct);
        await _redis.KillAsync(ct);
        await writer.WaitUntilDisconnectedAsync(ct);

        // A catalog change: tags "catalog", then "product:{id}", the one the item's entry carries.
        await writer.RenameAsync(product, "Tent II", ct).WaitAsync(StepBound, ct);
        Assert.Equal("Tent II", (await writer.Reader.GetItemAsync(product, ct))?.Name);

        await _redis.RestartAsync(ct);
        await writer.WaitUntilDeliveredAsync(ct);
        await using var other = await Replica.StartAsync(database, _redis, migrate: false, ct);
        Assert.Equal("Tent II", (await other.Reader.GetItemAsync(product, ct))?.Name);
    }

    [Fact]
    public async Task A_replica_that_lost_its_subscription_drops_what_it_cached_once_it_listens_again()
    {
        var ct = Timeout();
        var database = await infrastructure.CreateEmptyDatabaseAsync(ct);
        await using var replica = await Replica.StartAsync(database, _redis, migrate: true, ct);
        var product = await replica.AddProductAsync("Tent", 5, ct);
        Assert.Equal("Tent", (await replica.Reader.GetItemAsync(product, ct))?.Name);
        await _redis.KillAsync(ct);
        await replica.WaitUntilDisconnectedAsync(ct);

        // A change whose invalidation this replica never hears: made elsewhere, its message sent before it listened again.
        await replica.RenameUnseenAsync(product, "Tent II", ct);
        var resubscriptions = replica.Invalidator.Resubscriptions;
        await _redis.RestartAsync(ct);
        while (replica.Invalidator.Resubscriptions == resubscriptions)
        {
            await Task.Delay(10, ct);
        }

        Assert.Equal("Tent II", (await replica.Reader.GetItemAsync(product, ct))?.Name);
    }

    [Fact]
    public async Task A_replica_started_while_Redis_is_down_hears_invalidations_once_Redis_is_up()
    {
        var ct = Timeout();
        var database = await infrastructure.CreateEmptyDatabaseAsync(ct);
        await using var writer = await Replica.StartAsync(database, _redis, migrate: true, ct);
        var product = await writer.AddProductAsync("Tent", 5, ct);
        await _redis.KillAsync(ct);
        await using var late = await Replica.StartAsync(database, _redis, migrate: false, ct);

        await _redis.RestartAsync(ct);
        await late.WaitUntilSubscribedAsync(ct);
        await writer.WaitUntilConnectedAsync(ct);
        Assert.Equal("Tent", (await late.Reader.GetItemAsync(product, ct))?.Name);
        await writer.RenameAsync(product, "Tent II", ct);

        Assert.Equal("Tent II", (await late.Reader.GetItemAsync(product, ct))?.Name);
    }

    [Fact]
    public async Task With_Redis_down_a_series_of_catalog_reads_reports_the_outage_once_as_a_warning_and_logs_no_errors()
    {
        var ct = Timeout();
        var logs = new LogCollector();
        await using var replica = await Replica.StartAsync(await infrastructure.CreateEmptyDatabaseAsync(ct), _redis, migrate: true, ct, logs);
        var product = await replica.AddProductAsync("Tent", 5, ct);
        // What the set-up logged (EF Core's error for the migrations table an empty database lacks) is not the outage's.
        logs.Entries.Clear();
        await _redis.KillAsync(ct);
        await replica.WaitUntilDisconnectedAsync(ct);

        // Entries of their own each: every one a read of Redis, and a write once read from the database.
        for (var id = product; id < product + 10; id++)
        {
            Assert.Equal(id == product ? "Tent" : null, (await replica.Reader.GetItemAsync(id, ct))?.Name);
        }

        Assert.Single(await replica.Reader.GetBrandsAsync(ct));
        Assert.DoesNotContain(logs.Entries, entry => entry.Level >= LogLevel.Error);
        var warning = Assert.Single(logs.Entries, entry => entry.Level == LogLevel.Warning);
        Assert.Equal((typeof(CatalogCacheSecondLevel).FullName, null), (warning.Category, warning.Exception));
    }

    [Fact]
    public async Task With_Redis_not_answering_only_the_first_catalog_read_waits_for_it()
    {
        var ct = Timeout();
        // The service's Redis options, 1 s timeouts included; the window longer than the test, so none of it is timed.
        using var redisCache = new RedisCache(Options.Create(new RedisCacheOptions { ConfigurationOptions = CatalogCacheRedis.Options(_redis.ConnectionString) }));
        var redis = new CountingCache(redisCache);
        await using var services = new ServiceCollection()
            .AddSingleton<IDistributedCache>(new CatalogCacheSecondLevel(redis, TimeProvider.System, NullLogger<CatalogCacheSecondLevel>.Instance)
            {
                RetryAfter = TimeSpan.FromMinutes(10),
            })
            .AddHybridCache().Services
            .BuildServiceProvider();
        var cache = services.GetRequiredService<HybridCache>();
        Assert.Null(await redis.GetAsync("connected", ct));
        while (redis.Pending > 0)
        {
            // HybridCache reads its "*" tag as it starts.
            await Task.Delay(10, ct);
        }

        var calls = redis.Calls;
        await _redis.PauseAsync(ct);
        try
        {
            for (var read = 0; read < 5; read++)
            {
                Assert.Equal(read, await cache.GetOrCreateAsync("products:item:" + read, _ => ValueTask.FromResult(read), cancellationToken: ct));
            }
        }
        finally
        {
            await _redis.ResumeAsync(CancellationToken.None);
        }

        Assert.Equal(calls + 1, redis.Calls);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    /// <summary>One products replica's catalog, cache and inventory, registered as the service registers them.</summary>
    private sealed class Replica(ServiceProvider services) : IAsyncDisposable
    {
        public CatalogReader Reader { get; } = services.GetRequiredService<CatalogReader>();

        public CatalogCacheInvalidator Invalidator { get; } = services.GetRequiredService<CatalogCacheInvalidator>();

        public static async Task<Replica> StartAsync(
            string database, RedisServer redis, bool migrate, CancellationToken cancellationToken, LogCollector? logs = null)
        {
            var options = CatalogCacheRedis.Options(redis.ConnectionString);
            options.SyncTimeout = options.AsyncTimeout = (int)RedisTimeout.TotalMilliseconds;
            var services = new ServiceCollection()
                .AddLogging(logging =>
                {
                    logging.SetMinimumLevel(LogLevel.Warning);
                    if (logs is not null)
                    {
                        logging.AddProvider(logs);
                    }
                })
                .AddMetrics()
                .AddSingleton(TimeProvider.System)
                .AddSingleton<ProductsMetrics>()
                .AddDbContext<ProductsContext>(db => db.UseNpgsql(database))
                .AddScoped<InventoryService>()
                .AddCatalogCache(options)
                .BuildServiceProvider();
            if (migrate)
            {
                await using var scope = services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<ProductsContext>().Database.MigrateAsync(cancellationToken);
            }

            await ((IHostedService)services.GetRequiredService<CatalogCacheInvalidator>()).StartAsync(cancellationToken);
            return new Replica(services);
        }

        public Task WaitUntilDisconnectedAsync(CancellationToken cancellationToken) => WaitUntilConnectedAsync(false, cancellationToken);

        public Task WaitUntilConnectedAsync(CancellationToken cancellationToken) => WaitUntilConnectedAsync(true, cancellationToken);

        private async Task WaitUntilConnectedAsync(bool connected, CancellationToken cancellationToken)
        {
            var redis = services.GetRequiredService<IConnectionMultiplexer>();
            while (redis.IsConnected != connected)
            {
                await Task.Delay(10, cancellationToken);
            }
        }

        /// <summary>Waits until this replica hears invalidations, as Redis confirmed.</summary>
        public async Task WaitUntilSubscribedAsync(CancellationToken cancellationToken)
        {
            while (!Invalidator.IsSubscribed)
            {
                await Task.Delay(10, cancellationToken);
            }
        }

        /// <summary>Waits until the invalidations Redis refused have been retried and taken.</summary>
        public async Task WaitUntilDeliveredAsync(CancellationToken cancellationToken)
        {
            while (Invalidator.HasUndelivered)
            {
                await Task.Delay(10, cancellationToken);
            }
        }

        public async Task RenameAsync(int productId, string name, CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
            var product = await db.Products.SingleAsync(p => p.Id == productId, cancellationToken);
            product.Name = name;
            await db.SaveChangesAsync(cancellationToken);
        }

        /// <summary>Renames the product in the database alone, as another replica would, with no invalidation here.</summary>
        public async Task RenameUnseenAsync(int productId, string name, CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<ProductsContext>().Products
                .Where(p => p.Id == productId)
                .ExecuteUpdateAsync(update => update.SetProperty(p => p.Name, name), cancellationToken);
        }

        public async Task<int> AddProductAsync(string name, int stock, CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
            var product = new Product { Name = name, Description = "", Price = 1m, AvailableStock = stock };
            product.SetBrandAndCategory(new Brand { Name = "Test" }, new Category { Name = "Test" });
            db.Products.Add(product);
            await db.SaveChangesAsync(cancellationToken);
            return product.Id;
        }

        /// <summary>Reserves as the event bus runs the order submitted handler: in a transaction, saved, committed.</summary>
        public async Task<ReservationOutcome> ReserveAsync(int productId, int quantity, CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var outcome = await scope.ServiceProvider.GetRequiredService<InventoryService>()
                .ReserveAsync(Guid.NewGuid(), [new OrderLine(productId, quantity, 1m)], cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return outcome;
        }

        /// <summary>
        /// Reserves as <see cref="ReserveAsync"/> does; true if the context still carries the saga's mark (skip waiting
        /// for the other replicas) once the transaction committed, which a pooled context would hand to its next user.
        /// </summary>
        public async Task<bool> ReservationLeavesItsMarkAsync(int productId, int quantity, CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await scope.ServiceProvider.GetRequiredService<InventoryService>()
                .ReserveAsync(Guid.NewGuid(), [new OrderLine(productId, quantity, 1m)], cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return PendingInvalidations.TakeNotWaiting(db);
        }

        public async ValueTask DisposeAsync()
        {
            await Invalidator.StopAsync(CancellationToken.None);
            await services.DisposeAsync();
        }
    }

    /// <summary>Redis as the catalog cache reaches it, counting the calls that reach it.</summary>
    private sealed class CountingCache(IBufferDistributedCache redis) : IBufferDistributedCache
    {
        private int _calls;
        private int _pending;

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>The calls that have not returned yet.</summary>
        public int Pending => Volatile.Read(ref _pending);

        public byte[]? Get(string key) => Count(() => redis.Get(key));

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => CountAsync(() => redis.GetAsync(key, token));

        public bool TryGet(string key, IBufferWriter<byte> destination) => Count(() => redis.TryGet(key, destination));

        public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default) =>
            new(CountAsync(() => redis.TryGetAsync(key, destination, token).AsTask()));

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Count(() => Done(() => redis.Set(key, value, options)));

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
            CountAsync(() => redis.SetAsync(key, value, options, token));

        public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => Count(() => Done(() => redis.Set(key, value, options)));

        public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
            new(CountAsync(() => redis.SetAsync(key, value, options, token).AsTask()));

        public void Refresh(string key) => Count(() => Done(() => redis.Refresh(key)));

        public Task RefreshAsync(string key, CancellationToken token = default) => CountAsync(() => redis.RefreshAsync(key, token));

        public void Remove(string key) => Count(() => Done(() => redis.Remove(key)));

        public Task RemoveAsync(string key, CancellationToken token = default) => CountAsync(() => redis.RemoveAsync(key, token));

        private static bool Done(Action call)
        {
            call();
            return true;
        }

        private T Count<T>(Func<T> call)
        {
            Interlocked.Increment(ref _calls);
            Interlocked.Increment(ref _pending);
            try
            {
                return call();
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }

        private async Task CountAsync(Func<Task> call) => await CountAsync(async () =>
        {
            await call();
            return true;
        });

        private async Task<T> CountAsync<T>(Func<Task<T>> call)
        {
            Interlocked.Increment(ref _calls);
            Interlocked.Increment(ref _pending);
            try
            {
                return await call();
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
