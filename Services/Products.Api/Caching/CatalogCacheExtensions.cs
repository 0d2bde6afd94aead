using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Products.Api.Catalog;
using Products.Api.Infrastructure;
using StackExchange.Redis;

namespace Products.Api.Caching;

public static class CatalogCacheExtensions
{
    /// <summary>
    /// HybridCache over one Redis connection for the process (<paramref name="redis"/>, see
    /// <see cref="CatalogCacheRedis.Options"/>): Redis is the shared second level, left alone for a few seconds once it
    /// fails (<see cref="CatalogCacheSecondLevel"/>), and the channel that carries invalidations between replicas. Every
    /// save of <see cref="ProductsContext"/> that changes the catalog invalidates the tags it affects once it commits.
    /// </summary>
    public static IServiceCollection AddCatalogCache(this IServiceCollection services, ConfigurationOptions redis)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(redis);

        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis));

        services.AddOptions<RedisCacheOptions>()
            .Configure<IConnectionMultiplexer>((cache, multiplexer) =>
                cache.ConnectionMultiplexerFactory = () => Task.FromResult(multiplexer));

        // HybridCache's second level (the IDistributedCache it finds): Redis, skipped for a while once it fails.
        services.AddSingleton<IDistributedCache>(services => new CatalogCacheSecondLevel(
            new RedisCache(services.GetRequiredService<IOptions<RedisCacheOptions>>()),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<CatalogCacheSecondLevel>>()));

        services.AddHybridCache();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CatalogCache>();
        services.AddSingleton<CatalogReader>();
        services.AddSingleton<CatalogCacheInvalidator>();
        services.AddHostedService(services => services.GetRequiredService<CatalogCacheInvalidator>());
        services.AddSingleton<CatalogSaveChangesInterceptor>();
        services.AddSingleton<CatalogTransactionInterceptor>();

        // Singleton: a pooled context's options are built once, with these interceptors in them.
        services.ConfigureDbContext<ProductsContext>((services, db) => db.AddInterceptors(
            services.GetRequiredService<CatalogSaveChangesInterceptor>(),
            services.GetRequiredService<CatalogTransactionInterceptor>()), ServiceLifetime.Singleton);

        return services;
    }
}
