using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Testing;
using StackExchange.Redis;

namespace Shop.Web.Tests.Integration;

/// <summary>A real Redis server, started through the hosting layer once for the collection.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private TestInfrastructure? _servers;

    public IConnectionMultiplexer Redis { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddRedis("cache");
        _servers = await TestInfrastructure.StartAsync(builder, TimeSpan.FromSeconds(60), "cache");
        Redis = await ConnectionMultiplexer.ConnectAsync(_servers.GetConnectionString("cache"));
    }

    public async Task DisposeAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "Carts on Redis";
}
