using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Payment.Api.Gateway;
using Payment.Api.Infrastructure;
using Payment.Api.IntegrationEvents;
using Payment.Api.Processing;
using Payment.Api.Telemetry;
using Shop.IntegrationEvents;

namespace Payment.Api.Extensions;

public static class Extensions
{
    /// <summary>The audience an access token must name to be accepted here.</summary>
    public const string Audience = "payment";

    public const string DatabaseConnectionName = "paymentdb";

    public const string KafkaConnectionName = "kafka";

    /// <summary>The consumer group of payment's replicas; it also names payment's dead-letter topic.</summary>
    public const string ConsumerGroup = "payment";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();
        builder.AddUnstorableTextRefusal();
        builder.Services.AddOpenApi();

        // Tokens are checked here too, not only at the gateway: a request that bypasses the gateway gets no more.
        builder.AddDefaultAuthentication(Audience);

        builder.AddNpgsqlDbContext<PaymentContext>(DatabaseConnectionName);
        builder.Services.AddMigration<PaymentContext>();

        builder.AddEventBus<PaymentContext>(KafkaConnectionName, options => options.GroupId = ConsumerGroup)
            .AddSubscription<OrderAwaitingPaymentIntegrationEvent, OrderAwaitingPaymentHandler>()
            .AddSubscription<OrderCancelledIntegrationEvent, OrderCancelledHandler>();

        builder.AddPaymentProcessing();

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(PaymentTelemetry.Name));

        return builder;
    }

    /// <summary>
    /// The processor that charges and refunds through the payment gateway (its client, with the resilience pipeline),
    /// and its options: what the service runs besides its APIs and its event handlers.
    /// </summary>
    public static void AddPaymentProcessing(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddOptions<PaymentOptions>()
            .Bind(builder.Configuration.GetSection(PaymentOptions.SectionName))
            .Validate(o => o.ChargeDeadline > TimeSpan.Zero && o.RetryDelay > TimeSpan.Zero && o.MaxRetryDelay >= o.RetryDelay
                           && o.PollInterval > TimeSpan.Zero && o.MaxConcurrentPayments > 0,
                "Payment: ChargeDeadline, RetryDelay and PollInterval must be positive, MaxRetryDelay ≥ RetryDelay, MaxConcurrentPayments positive.")
            .ValidateOnStart();

        builder.AddPaymentGatewayClient();
        builder.Services.AddSingleton<PaymentTelemetry>();
        builder.Services.AddSingleton<PaymentWorkSignal>();
        builder.Services.AddSingleton<PaymentWorkInterceptor>();
        builder.Services.ConfigureDbContext<PaymentContext>(
            (services, options) => options.AddInterceptors(services.GetRequiredService<PaymentWorkInterceptor>()),
            ServiceLifetime.Singleton);
        builder.Services.AddHostedService<PaymentProcessor>();
    }
}
