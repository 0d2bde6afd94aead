using Ordering.Api.Infrastructure;
using Ordering.Api.IntegrationEvents;
using Ordering.Api.Services;
using Shop.IntegrationEvents;

namespace Ordering.Api.Extensions;

public static class Extensions
{
    /// <summary>The audience an access token must name to be accepted here.</summary>
    public const string Audience = "ordering";

    public const string DatabaseConnectionName = "orderingdb";

    public const string KafkaConnectionName = "kafka";

    /// <summary>The consumer group of ordering's replicas; it also names ordering's dead-letter topic.</summary>
    public const string ConsumerGroup = "ordering";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();
        builder.AddUnstorableTextRefusal();
        builder.Services.AddOpenApi();

        // Tokens are checked here too, not only at the gateway: a request that bypasses the gateway gets no more.
        builder.AddDefaultAuthentication(Audience);

        builder.AddNpgsqlDbContext<OrderingContext>(DatabaseConnectionName);
        builder.Services.AddMigration<OrderingContext>();

        builder.AddEventBus<OrderingContext>(KafkaConnectionName, options => options.GroupId = ConsumerGroup)
            .AddSubscription<StockReservedIntegrationEvent, StockReservedHandler>()
            .AddSubscription<StockRejectedIntegrationEvent, StockRejectedHandler>()
            .AddSubscription<PaymentSucceededIntegrationEvent, PaymentSucceededHandler>()
            .AddSubscription<PaymentFailedIntegrationEvent, PaymentFailedHandler>()
            .AddSubscription<ProductChangedIntegrationEvent, ProductChangedHandler>();

        builder.Services.AddOptions<OrderingOptions>()
            .Bind(builder.Configuration.GetSection(OrderingOptions.SectionName))
            .Validate(o => o.Currency is { Length: 3 } && o.Currency.All(char.IsAsciiLetterUpper), "Ordering:Currency must be an ISO 4217 code such as USD.")
            .Validate(o => o.MaxStreamsPerBuyer >= 1, "Ordering:MaxStreamsPerBuyer must be at least 1.")
            .ValidateOnStart();
        builder.Services.AddProductsClient();
        builder.Services.AddScoped<OrderPlacement>();
        builder.Services.AddScoped<OrderQueries>();
        builder.Services.AddSingleton<OrderStatusFeed>();
        builder.Services.AddSingleton<OrderStreamSlots>();
        builder.Services.AddHostedService<OrderStatusListener>();

        return builder;
    }

    /// <summary>
    /// The products service's client: <c>http://products</c>, resolved by service discovery, through the standard
    /// resilience handler; both come with the service defaults' HttpClient defaults.
    /// </summary>
    public static IHttpClientBuilder AddProductsClient(this IServiceCollection services) =>
        services.AddHttpClient<ProductsClient>(http => http.BaseAddress = ProductsClient.BaseAddress);
}
