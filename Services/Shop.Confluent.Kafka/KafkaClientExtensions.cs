using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Shop.Confluent.Kafka;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers Confluent.Kafka producers and consumers the way Aspire's client integration does: bootstrap
/// servers from <c>ConnectionStrings:{name}</c>, settings from <c>Kafka:Producer</c> / <c>Kafka:Consumer</c>,
/// singletons disposed with the host, librdkafka logs routed to <see cref="ILogger"/>, a "ready" health
/// check doing a real metadata round trip and librdkafka statistics as metrics (meter <c>Shop.Confluent.Kafka</c>).
/// </summary>
public static class KafkaClientExtensions
{
    public const string ProducerSectionName = "Kafka:Producer";
    public const string ConsumerSectionName = "Kafka:Consumer";
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(3);
    private static readonly string[] HealthCheckTags = ["ready"];

    // While no broker answers, a consumer's coordinator lookup and a producer's metadata requests ask librdkafka for a
    // new connection every reconnect.backoff.ms / 2, however far each broker's own backoff has grown: at librdkafka's
    // default of 100 ms, 20 attempts (and errors) a second per client. At 1 s, two.
    private const int ReconnectBackoffMs = 1_000;

    public static IHostApplicationBuilder AddKafkaProducer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<ProducerBuilder<TKey, TValue>>? configureBuilder = null,
        Action<ProducerConfig>? configureSettings = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);

        var settings = new KafkaProducerSettings();
        builder.Configuration.GetSection(ProducerSectionName).Bind(settings);
        settings.ConnectionString = builder.Configuration.GetConnectionString(connectionName) ?? settings.ConnectionString;
        configureSettings?.Invoke(settings.Config);
        settings.Config.BootstrapServers ??= settings.ConnectionString ?? throw MissingConnectionString(connectionName, ProducerSectionName);
        // librdkafka refuses a reconnect backoff above its maximum.
        settings.Config.ReconnectBackoffMs ??= Math.Min(ReconnectBackoffMs, settings.Config.ReconnectBackoffMaxMs ?? ReconnectBackoffMs);
        if (!settings.DisableMetrics)
        {
            settings.Config.StatisticsIntervalMs ??= KafkaClientMetrics.DefaultStatisticsIntervalMs;
        }

        builder.Services.TryAddSingleton<KafkaClientMetrics>();
        builder.Services.AddSingleton(services =>
        {
            var producer = new ProducerBuilder<TKey, TValue>(settings.Config);
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger($"Shop.Confluent.Kafka.Producer.{connectionName}");
            producer.SetLogHandler((_, message) => Log(logger, message));
            producer.SetErrorHandler((_, error) => LogError(logger, error));
            if (!settings.DisableMetrics)
            {
                var metrics = services.GetRequiredService<KafkaClientMetrics>();
                producer.SetStatisticsHandler((_, json) => metrics.Record(json));
            }

            configureBuilder?.Invoke(producer);
            return producer.Build();
        });

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"kafka-producer-{connectionName}-{typeof(TKey).Name}-{typeof(TValue).Name}",
                services => new KafkaHealthCheck(() => services.GetRequiredService<IProducer<TKey, TValue>>().Handle, HealthCheckTimeout),
                failureStatus: null,
                tags: HealthCheckTags));
        }

        return builder;
    }

    public static IHostApplicationBuilder AddKafkaConsumer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<ConsumerConfig> configureSettings,
        Action<ConsumerBuilder<TKey, TValue>>? configureBuilder = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        ArgumentNullException.ThrowIfNull(configureSettings);

        var settings = new KafkaConsumerSettings();
        builder.Configuration.GetSection(ConsumerSectionName).Bind(settings);
        settings.ConnectionString = builder.Configuration.GetConnectionString(connectionName) ?? settings.ConnectionString;
        configureSettings(settings.Config);
        settings.Config.BootstrapServers ??= settings.ConnectionString ?? throw MissingConnectionString(connectionName, ConsumerSectionName);
        // librdkafka refuses a reconnect backoff above its maximum.
        settings.Config.ReconnectBackoffMs ??= Math.Min(ReconnectBackoffMs, settings.Config.ReconnectBackoffMaxMs ?? ReconnectBackoffMs);
        if (string.IsNullOrWhiteSpace(settings.Config.GroupId))
        {
            throw new InvalidOperationException(
                $"The Kafka consumer '{connectionName}' needs a GroupId: set it in configureSettings or as '{ConsumerSectionName}:Config:GroupId'.");
        }

        if (!settings.DisableMetrics)
        {
            settings.Config.StatisticsIntervalMs ??= KafkaClientMetrics.DefaultStatisticsIntervalMs;
        }

        builder.Services.TryAddSingleton<KafkaClientMetrics>();
        builder.Services.AddSingleton(services =>
        {
            var consumer = new ConsumerBuilder<TKey, TValue>(settings.Config);
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger($"Shop.Confluent.Kafka.Consumer.{connectionName}");
            consumer.SetLogHandler((_, message) => Log(logger, message));
            consumer.SetErrorHandler((_, error) => LogError(logger, error));
            if (!settings.DisableMetrics)
            {
                var metrics = services.GetRequiredService<KafkaClientMetrics>();
                consumer.SetStatisticsHandler((_, json) => metrics.Record(json));
            }

            configureBuilder?.Invoke(consumer);
            return consumer.Build();
        });

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"kafka-consumer-{connectionName}-{typeof(TKey).Name}-{typeof(TValue).Name}",
                services => new KafkaHealthCheck(() => services.GetRequiredService<IConsumer<TKey, TValue>>().Handle, HealthCheckTimeout),
                failureStatus: null,
                tags: HealthCheckTags));
        }

        return builder;
    }

    private static InvalidOperationException MissingConnectionString(string connectionName, string sectionName) =>
        new($"No Kafka bootstrap servers for '{connectionName}': set the connection string 'ConnectionStrings:{connectionName}' " +
            $"(environment ConnectionStrings__{connectionName}=host:port) or '{sectionName}:ConnectionString'.");

    private static void Log(ILogger logger, LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
            SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        if (logger.IsEnabled(level))
        {
            logger.Log(level, "librdkafka {Client} {Facility}: {Message}", message.Name, message.Facility, message.Message);
        }
    }

    private static void LogError(ILogger logger, Error error) =>
        logger.Log(error.IsFatal ? LogLevel.Critical : LogLevel.Warning, "Kafka client error {Code}: {Reason}", error.Code, error.Reason);
}
