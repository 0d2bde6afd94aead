using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.OpenApi;
using OpenTelemetry.Metrics;
using Products.Api.Caching;
using Products.Api.Catalog;
using Products.Api.Infrastructure;
using Products.Api.Inventory;
using Shop.IntegrationEvents;
using StackExchange.Redis;

namespace Products.Api.Extensions;

public static class Extensions
{
    /// <summary>The audience an access token must name to be accepted here.</summary>
    public const string Audience = "products";

    public const string DatabaseConnectionName = "productsdb";
    public const string CacheConnectionName = "cache";
    public const string KafkaConnectionName = "kafka";

    /// <summary>The consumer group of this service's replicas; it also names its dead-letter topic.</summary>
    public const string EventBusGroupId = "products";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();
        builder.AddUnstorableTextRefusal();

        // Tokens are checked here too, not only at the gateway: a request that bypasses the gateway gets no more.
        builder.AddDefaultAuthentication(Audience);

        builder.AddNpgsqlDbContext<ProductsContext>(DatabaseConnectionName);
        builder.Services.AddMigration<ProductsContext>(ProductsSeed.SeedAsync);

        // Reserve on submission, sell on confirmation, release on cancellation: the checkout saga's inventory steps.
        // One order per transaction: stock rows are shared by orders of every partition, and a batch of orders would
        // hold many of them, locked order by order rather than in one id order, so batches of two partitions can deadlock.
        builder.AddEventBus<ProductsContext>(KafkaConnectionName, options =>
            {
                options.GroupId = EventBusGroupId;
                options.MaxBatchSize = 1;
            })
            .AddSubscription<OrderSubmittedIntegrationEvent, OrderSubmittedHandler>()
            .AddSubscription<OrderConfirmedIntegrationEvent, OrderConfirmedHandler>()
            .AddSubscription<OrderCancelledIntegrationEvent, OrderCancelledHandler>();
        builder.Services.AddScoped<InventoryService>();

        builder.AddCatalogCache(CacheConnectionName);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProductsMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(ProductsMetrics.MeterName));

        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, ProductsJsonContext.Default));
        // The catalog's document is public, read through the gateway: its server is where it was read from, never
        // this service's own address, which no client outside can reach.
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Servers = [new OpenApiServer { Url = "/" }];
            return Task.CompletedTask;
        }));

        return builder;
    }

    /// <summary>
    /// The catalog cache over the Redis of <paramref name="connectionName"/> (<see cref="CatalogCacheExtensions.AddCatalogCache"/>);
    /// <c>/health</c> checks Redis.
    /// </summary>
    private static void AddCatalogCache(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The connection string 'ConnectionStrings:{connectionName}' is not set. Run this service through " +
                $"Shop.AppHost, or point it at Redis with the environment variable " +
                $"ConnectionStrings__{connectionName}=\"host:port,password=…\".");
        }

        builder.Services.AddCatalogCache(CatalogCacheRedis.Options(connectionString));

        builder.Services.AddHealthChecks()
            .AddRedis(services => services.GetRequiredService<IConnectionMultiplexer>(), name: connectionName);
    }
}
