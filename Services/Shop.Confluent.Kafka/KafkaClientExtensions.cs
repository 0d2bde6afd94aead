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
/// singletons disposed with the host, librdkafka logs and errors routed to <see cref="ILogger"/> (an outage once, not
/// once per retry: <see cref="KafkaClientLog"/>), a "ready" health check doing a real metadata round trip and
/// librdkafka statistics as metrics (meter <c>Shop.Confluent.Kafka</c>).
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
        SetClientDefaults(settings.Config, $"producer '{connectionName}'", ProducerSectionName);

        builder.Services.TryAddSingleton<KafkaClientMetrics>();
        builder.Services.AddSingleton(services =>
        {
            var log = ClientLog(services, $"Shop.Confluent.Kafka.Producer.{connectionName}", settings.Config.BootstrapServers);
            var metrics = settings.DisableMetrics ? null : services.GetRequiredService<KafkaClientMetrics>();
            var producer = new ChainingProducerBuilder<TKey, TValue>(settings.Config, log, json =>
            {
                log.Statistics(json);
                metrics?.Record(json);
            });

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
        SetClientDefaults(settings.Config, $"consumer '{connectionName}'", ConsumerSectionName);
        if (string.IsNullOrWhiteSpace(settings.Config.GroupId))
        {
            throw new InvalidOperationException(
                $"The Kafka consumer '{connectionName}' needs a GroupId: set it in configureSettings or as '{ConsumerSectionName}:Config:GroupId'.");
        }

        builder.Services.TryAddSingleton<KafkaClientMetrics>();
        builder.Services.AddSingleton(services =>
        {
            var log = ClientLog(services, $"Shop.Confluent.Kafka.Consumer.{connectionName}", settings.Config.BootstrapServers);
            var metrics = settings.DisableMetrics ? null : services.GetRequiredService<KafkaClientMetrics>();
            var consumer = new ChainingConsumerBuilder<TKey, TValue>(settings.Config, log, json =>
            {
                log.Statistics(json);
                metrics?.Record(json);
            });

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

    /// <summary>What a producer and a consumer both get unless configured otherwise.</summary>
    private static void SetClientDefaults(ClientConfig config, string client, string sectionName)
    {
        // librdkafka refuses a reconnect backoff above its maximum.
        config.ReconnectBackoffMs ??= Math.Min(ReconnectBackoffMs, config.ReconnectBackoffMaxMs ?? ReconnectBackoffMs);
        // Statistics also tell the client's log when its brokers are back after an outage: without them an outage
        // would never end for the log, and the next one would get no warning.
        config.StatisticsIntervalMs ??= KafkaClientMetrics.DefaultStatisticsIntervalMs;
        if (config.StatisticsIntervalMs <= 0)
        {
            throw new InvalidOperationException(
                $"The Kafka {client} needs a positive StatisticsIntervalMs, not {config.StatisticsIntervalMs}: its log learns from " +
                $"librdkafka's statistics that an outage is over. Leave it unset ({KafkaClientMetrics.DefaultStatisticsIntervalMs} ms) " +
                $"or set it in configureSettings or as '{sectionName}:Config:StatisticsIntervalMs'; DisableMetrics turns off only the metrics.");
        }
    }

    /// <summary>
    /// Gives the built producer the library's log, error and statistics handlers (the log, the metrics), each followed
    /// by the one the caller's <c>configureBuilder</c> set, if any: ProducerBuilder refuses a second handler of a kind.
    /// </summary>
    private sealed class ChainingProducerBuilder<TKey, TValue>(ProducerConfig config, KafkaClientLog log, Action<string> statistics)
        : ProducerBuilder<TKey, TValue>(config)
    {
        public override IProducer<TKey, TValue> Build()
        {
            (LogHandler, ErrorHandler, StatisticsHandler) = Chain(log, statistics, LogHandler, ErrorHandler, StatisticsHandler);
            return base.Build();
        }
    }

    /// <summary>The consumer's <see cref="ChainingProducerBuilder{TKey, TValue}"/>.</summary>
    private sealed class ChainingConsumerBuilder<TKey, TValue>(ConsumerConfig config, KafkaClientLog log, Action<string> statistics)
        : ConsumerBuilder<TKey, TValue>(config)
    {
        public override IConsumer<TKey, TValue> Build()
        {
            (LogHandler, ErrorHandler, StatisticsHandler) = Chain(log, statistics, LogHandler, ErrorHandler, StatisticsHandler);
            return base.Build();
        }
    }

    /// <summary>The library's handlers first, then the caller's (each may be null).</summary>
    private static (Action<TClient, LogMessage>, Action<TClient, Error>, Action<TClient, string>) Chain<TClient>(
        KafkaClientLog log,
        Action<string> statistics,
        Action<TClient, LogMessage>? callersLog,
        Action<TClient, Error>? callersError,
        Action<TClient, string>? callersStatistics)
        where TClient : IClient =>
        (
            (client, message) =>
            {
                log.Log(message);
                callersLog?.Invoke(client, message);
            },
            (client, error) =>
            {
                log.Error(client.Name, error);
                callersError?.Invoke(client, error);
            },
            (client, json) =>
            {
                statistics(json);
                callersStatistics?.Invoke(client, json);
            });

    private static KafkaClientLog ClientLog(IServiceProvider services, string category, string bootstrapServers) =>
        new(services.GetRequiredService<ILoggerFactory>().CreateLogger(category), bootstrapServers, services.GetService<TimeProvider>() ?? TimeProvider.System);
}
