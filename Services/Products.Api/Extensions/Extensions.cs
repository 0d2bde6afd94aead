using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Products.Api.Infrastructure;
using StackExchange.Redis;

namespace Products.Api.Extensions;

public static class Extensions
{
    /// <summary>The audience an access token must name to be accepted here.</summary>
    public const string Audience = "products";

    public const string DatabaseConnectionName = "productsdb";
    public const string CacheConnectionName = "cache";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        // Tokens are checked here too, not only at the gateway: a request that bypasses the gateway gets no more.
        builder.AddDefaultAuthentication(Audience);

        builder.AddNpgsqlDbContext<ProductsContext>(DatabaseConnectionName);
        builder.Services.AddMigration<ProductsContext>(ProductsSeed.SeedAsync);

        builder.AddRedisCache(CacheConnectionName);

        return builder;
    }

    /// <summary>
    /// One Redis connection for the process, used as HybridCache's shared second level (every replica sees
    /// what another one cached) and checked by <c>/health</c>.
    /// </summary>
    private static void AddRedisCache(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The connection string 'ConnectionStrings:{connectionName}' is not set. Run this service through " +
                $"Shop.AppHost, or point it at Redis with the environment variable " +
                $"ConnectionStrings__{connectionName}=\"host:port,password=…\".");
        }

        var options = ConfigurationOptions.Parse(connectionString);
        // Start even while Redis is down: /health reports it and the cache falls back to the database.
        options.AbortOnConnectFail = false;

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));

        builder.Services.AddStackExchangeRedisCache(_ => { });
        builder.Services.AddOptions<RedisCacheOptions>()
            .Configure<IConnectionMultiplexer>((cache, multiplexer) =>
                cache.ConnectionMultiplexerFactory = () => Task.FromResult(multiplexer));

        builder.Services.AddHybridCache();

        builder.Services.AddHealthChecks()
            .AddRedis(services => services.GetRequiredService<IConnectionMultiplexer>(), name: connectionName);
    }
}
