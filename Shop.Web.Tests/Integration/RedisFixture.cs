using Shop.Hosting;
using Shop.Hosting.Testing;
using StackExchange.Redis;

namespace Shop.Web.Tests.Integration;

/// <summary>A real Redis server, started through the hosting layer once for the collection.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public IConnectionMultiplexer Redis { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddRedis("cache");
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("cache", timeout.Token);
        var connectionString = await _app.GetConnectionStringAsync("cache", timeout.Token)
                               ?? throw new InvalidOperationException("cache has no connection string.");
        Redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
    }

    public async Task DisposeAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "Carts on Redis";
}
