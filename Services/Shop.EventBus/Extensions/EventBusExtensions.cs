using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Shop.EventBus;

namespace Microsoft.Extensions.Hosting;

/// <summary>Adds event handlers to the bus: <c>builder.AddEventBus&lt;OrderingContext&gt;("kafka").AddSubscription&lt;TEvent, THandler&gt;()</c>.</summary>
public interface IEventBusBuilder
{
    IServiceCollection Services { get; }

    /// <summary>
    /// Runs <typeparamref name="THandler"/> (scoped, from dependency injection) for every <typeparamref name="TEvent"/>
    /// on its topic, exactly once per event id, inside a transaction on the bus's DbContext.
    /// </summary>
    IEventBusBuilder AddSubscription<TEvent, THandler>()
        where TEvent : IntegrationEvent
        where THandler : class, IIntegrationEventHandler<TEvent>;
}

public static class EventBusExtensions
{
    /// <summary>
    /// Registers the event bus on <typeparamref name="TContext"/> (which must be registered, e.g. with
    /// <c>AddNpgsqlDbContext</c>, and whose model calls <c>modelBuilder.AddEventBusTables()</c>) and the Kafka cluster
    /// named by <c>ConnectionStrings:{connectionName}</c>: the outbox relay, the consumer of this service's
    /// subscriptions and dead letters, topic creation, and the <c>Shop.EventBus</c> traces and metrics. Settings come
    /// from the <c>EventBus</c> section, then <paramref name="configure"/>; they are validated when the host starts.
    /// </summary>
    public static IEventBusBuilder AddEventBus<TContext>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<EventBusOptions>? configure = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);

        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(SubscriptionRegistry)))
        {
            throw new InvalidOperationException("AddEventBus was called twice: a service has one event bus, on one DbContext.");
        }

        var section = builder.Configuration.GetSection(EventBusOptions.SectionName);
        var applicationName = builder.Environment.ApplicationName;
        void Configure(EventBusOptions options)
        {
            configure?.Invoke(options);
            if (string.IsNullOrWhiteSpace(options.GroupId))
            {
                options.GroupId = applicationName;
            }
        }

        // The consumer's group id is needed now, to register the Kafka consumer; everything else is read when used.
        var settings = new EventBusOptions();
        section.Bind(settings);
        Configure(settings);

        services.AddOptions<EventBusOptions>()
            .Bind(section)
            .Configure(Configure)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EventBusOptions>, EventBusOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        builder.AddKafkaProducer<string, byte[]>(connectionName, configureSettings: config =>
        {
            // Per-partition order and no duplicates on the producer's own retries depend on these two.
            config.Acks = Acks.All;
            config.EnableIdempotence = true;
            // A batch Kafka cannot take fails after this long and is retried by the relay, which keeps shutdown prompt.
            config.MessageTimeoutMs ??= 10_000;
            config.LingerMs ??= 1;
            config.ReconnectBackoffMaxMs ??= 1_000;
        });

        var assignment = new ConsumerAssignment(TimeProvider.System);
        services.AddSingleton(assignment);
        builder.AddKafkaConsumer<string, byte[]>(connectionName, config =>
        {
            config.GroupId = settings.GroupId;
            // Offsets are committed by the consumer only once a message is handled.
            config.EnableAutoCommit = false;
            config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
            // Round robin deals each topic's partitions out evenly among the replicas. The cooperative-sticky assignor
            // balances only their total: of two replicas, one could get every partition of the events' topic and the
            // other every one of the dead-letter topic, and do nothing. Its price: a rebalance (a replica joining or
            // leaving) pauses every partition for a moment, not only those that move.
            config.PartitionAssignmentStrategy ??= PartitionAssignmentStrategy.RoundRobin;
            config.ReconnectBackoffMaxMs ??= 1_000;
            // A killed replica's partitions wait this long for another member (or its restart) to take them over;
            // librdkafka's 45 s suits clusters across a network, not processes on one machine.
            config.SessionTimeoutMs ??= 10_000;
        }, consumer => consumer
            .SetPartitionsAssignedHandler((_, partitions) => assignment.Assigned(partitions))
            .SetPartitionsRevokedHandler((consumer, partitions) => assignment.Revoked(consumer, [.. partitions.Select(p => p.TopicPartition)]))
            .SetPartitionsLostHandler((_, partitions) => assignment.Lost([.. partitions.Select(p => p.TopicPartition)])));

        var registry = new SubscriptionRegistry();
        services.AddSingleton(registry);
        services.TryAddSingleton<EventBusTelemetry>();
        services.AddSingleton<IntegrationEventSerializer>();
        services.AddSingleton<OutboxWriter>();
        services.AddSingleton<TopicManager>();
        services.AddSingleton<OutboxSignal<TContext>>();
        services.AddSingleton<OutboxSaveChangesInterceptor<TContext>>();
        services.AddSingleton<OutboxTransactionInterceptor<TContext>>();
        services.AddSingleton<EventDispatcher<TContext>>();
        services.AddSingleton<DeadLetterService<TContext>>();
        services.AddSingleton<IDeadLetterService>(sp => sp.GetRequiredService<DeadLetterService<TContext>>());

        // Singleton: a pooled context's options are built once, with these interceptors in them.
        services.ConfigureDbContext<TContext>((sp, options) => options.AddInterceptors(
            sp.GetRequiredService<OutboxSaveChangesInterceptor<TContext>>(),
            sp.GetRequiredService<OutboxTransactionInterceptor<TContext>>()), ServiceLifetime.Singleton);

        services.AddHostedService<OutboxRelay<TContext>>();
        services.AddHostedService<EventConsumer<TContext>>();

        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(EventBusTelemetry.Name))
            .WithMetrics(metrics => metrics.AddMeter(EventBusTelemetry.Name));

        return new EventBusBuilder(services, registry);
    }

    private sealed class EventBusBuilder(IServiceCollection services, SubscriptionRegistry registry) : IEventBusBuilder
    {
        public IServiceCollection Services => services;

        public IEventBusBuilder AddSubscription<TEvent, THandler>()
            where TEvent : IntegrationEvent
            where THandler : class, IIntegrationEventHandler<TEvent>
        {
            // A bad topic name fails here, at start-up, rather than on the first message.
            _ = TopicNames.For(typeof(TEvent), prefix: "");
            services.TryAddScoped<THandler>();
            registry.Add(typeof(TEvent), new HandlerRegistration(
                typeof(THandler).FullName ?? typeof(THandler).Name,
                typeof(THandler),
                (serviceProvider, @event, cancellationToken) =>
                    serviceProvider.GetRequiredService<THandler>().Handle((TEvent)@event, cancellationToken)));
            return this;
        }
    }
}
