using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.Confluent.Kafka.Tests;

public sealed class KafkaClientExtensionsTests(BrokerFixture broker) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        return builder;
    }

    [Fact]
    public void A_missing_connection_string_names_the_key_to_set()
    {
        var builder = Builder();
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddKafkaProducer<string, string>("kafka"));
        Assert.Contains("ConnectionStrings:kafka", error.Message);
        var consumerError = Assert.Throws<InvalidOperationException>(() => builder.AddKafkaConsumer<string, string>("events", c => c.GroupId = "g"));
        Assert.Contains("ConnectionStrings:events", consumerError.Message);
    }

    [Fact]
    public void A_consumer_without_a_group_id_is_refused_with_a_clear_message()
    {
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers));
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddKafkaConsumer<string, string>("kafka", _ => { }));
        Assert.Contains("GroupId", error.Message);
    }

    [Fact]
    public void A_statistics_interval_of_0_is_refused_with_a_clear_message()
    {
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers), ("Kafka:Producer:Config:StatisticsIntervalMs", "0"));
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddKafkaProducer<string, string>("kafka"));
        Assert.Contains("Kafka:Producer:Config:StatisticsIntervalMs", error.Message, StringComparison.Ordinal);
        Assert.Contains("outage is over", error.Message, StringComparison.Ordinal);

        var consumerError = Assert.Throws<InvalidOperationException>(() => builder.AddKafkaConsumer<string, string>("kafka", c =>
        {
            c.GroupId = "g";
            c.StatisticsIntervalMs = 0;
        }));
        Assert.Contains("Kafka:Consumer:Config:StatisticsIntervalMs", consumerError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arguments_are_validated()
    {
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers));
        Assert.Throws<ArgumentNullException>(() => KafkaClientExtensions.AddKafkaProducer<string, string>(null!, "kafka"));
        Assert.Throws<ArgumentException>(() => builder.AddKafkaProducer<string, string>(" "));
        Assert.Throws<ArgumentNullException>(() => builder.AddKafkaConsumer<string, string>("kafka", null!));
    }

    [Fact]
    public async Task Registered_producer_and_consumer_exchange_a_message_through_the_broker()
    {
        var topic = $"client-{Guid.NewGuid():N}";
        double? boundLinger = null;
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers), ("Kafka:Producer:Config:LingerMs", "7"));
        builder.AddKafkaProducer<string, string>("kafka", configureSettings: c => boundLinger = c.LingerMs);
        builder.AddKafkaConsumer<string, string>("kafka", c =>
        {
            c.GroupId = "client-tests";
            c.AutoOffsetReset = AutoOffsetReset.Earliest;
        });

        using var host = builder.Build();
        await host.StartAsync();
        var producer = host.Services.GetRequiredService<IProducer<string, string>>();
        Assert.Same(producer, host.Services.GetRequiredService<IProducer<string, string>>());
        Assert.Equal(7, boundLinger);

        var delivery = await producer.ProduceAsync(topic, new Message<string, string> { Key = "order-1", Value = "created" });
        Assert.Equal(PersistenceStatus.Persisted, delivery.Status);

        var consumer = host.Services.GetRequiredService<IConsumer<string, string>>();
        consumer.Subscribe(topic);
        using var cancellation = new CancellationTokenSource(Timeout);
        var received = consumer.Consume(cancellation.Token);
        Assert.Equal("order-1", received.Message.Key);
        Assert.Equal("created", received.Message.Value);
        await host.StopAsync();
    }

    [Fact]
    public async Task The_health_checks_are_healthy_against_a_live_broker_and_unhealthy_without_one()
    {
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers), ("ConnectionStrings:nowhere", "127.0.0.1:1"));
        builder.AddKafkaProducer<string, string>("kafka");
        builder.AddKafkaConsumer<string, string>("kafka", c => c.GroupId = "health");
        builder.AddKafkaProducer<Null, string>("nowhere");
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var live = await health.CheckHealthAsync(r => r.Tags.Contains("ready") && r.Name.Contains("-kafka-"));
        Assert.Equal(2, live.Entries.Count);
        Assert.Equal(HealthStatus.Healthy, live.Status);

        var dead = await health.CheckHealthAsync(r => r.Name.StartsWith("kafka-producer-nowhere", StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Unhealthy, dead.Status);
    }

    [Fact]
    public void A_statistics_handler_set_in_configureBuilder_runs_after_the_librarys()
    {
        var callers = new List<string>();
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers));
        builder.AddKafkaProducer<Null, string>("kafka",
            producer => producer.SetStatisticsHandler((_, _) => Called("producer")),
            c => c.StatisticsIntervalMs = 100);
        builder.AddKafkaConsumer<Null, string>("kafka",
            c =>
            {
                c.GroupId = "statistics";
                c.StatisticsIntervalMs = 100;
            },
            consumer => consumer.SetStatisticsHandler((_, _) => Called("consumer")));
        using var host = builder.Build();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        var clients = new HashSet<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "messaging.kafka.network.tx" && instrument.Meter.Name == KafkaClientMetrics.MeterName
                && instrument.Meter.Scope == meterFactory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.kafka.client.type")
                {
                    clients.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();

        _ = host.Services.GetRequiredService<IProducer<Null, string>>();
        var consumer = host.Services.GetRequiredService<IConsumer<Null, string>>();
        var deadline = DateTime.UtcNow + Timeout;
        // A consumer's statistics are served by its poll.
        while (Calls().Length < 2 && DateTime.UtcNow < deadline)
        {
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(["consumer", "producer"], Calls());
        // The library's handler ran first: both clients' statistics are already metrics.
        listener.RecordObservableInstruments();
        Assert.Equal(["consumer", "producer"], clients.Order());
        consumer.Close();

        void Called(string client)
        {
            lock (callers)
            {
                if (!callers.Contains(client))
                {
                    callers.Add(client);
                }
            }
        }

        string[] Calls()
        {
            lock (callers)
            {
                return [.. callers.Order()];
            }
        }
    }

    [Fact]
    public void Log_and_error_handlers_set_in_configureBuilder_run_after_the_librarys()
    {
        // Nothing listens on port 1: the producer fails to connect, which librdkafka both logs and reports as an error.
        var builder = Builder(("ConnectionStrings:nowhere", "127.0.0.1:1"));
        var log = new Shop.Testing.LogCollector();
        builder.Logging.AddProvider(log);
        var logged = new ManualResetEventSlim();
        var errors = new ManualResetEventSlim();
        builder.AddKafkaProducer<Null, string>("nowhere", producer => producer
            .SetLogHandler((_, _) => logged.Set())
            .SetErrorHandler((_, _) => errors.Set()));
        using var host = builder.Build();

        _ = host.Services.GetRequiredService<IProducer<Null, string>>();

        Assert.True(logged.Wait(Timeout), "the caller's log handler was not called");
        Assert.True(errors.Wait(Timeout), "the caller's error handler was not called");
        // The library's own handlers still ran: the outage is in the client's log.
        Assert.Contains(log.Entries, e => e.Category == "Shop.Confluent.Kafka.Producer.nowhere" && e.Message.Contains("cannot reach", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Client_statistics_are_published_as_metrics()
    {
        var builder = Builder(("ConnectionStrings:kafka", broker.BootstrapServers));
        builder.AddKafkaProducer<Null, string>("kafka", configureSettings: c => c.StatisticsIntervalMs = 100);
        using var host = builder.Build();
        var measurements = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KafkaClientMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (measurements)
            {
                measurements[instrument.Name] = value;
            }
        });
        listener.Start();

        var producer = host.Services.GetRequiredService<IProducer<Null, string>>();
        await producer.ProduceAsync($"metrics-{Guid.NewGuid():N}", new Message<Null, string> { Value = "measured" });
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            listener.RecordObservableInstruments();
            lock (measurements)
            {
                if (measurements.GetValueOrDefault("messaging.kafka.message.tx") >= 1)
                {
                    break;
                }
            }

            await Task.Delay(100);
        }

        lock (measurements)
        {
            Assert.True(measurements.GetValueOrDefault("messaging.kafka.message.tx") >= 1, "messages sent should be counted");
            Assert.True(measurements.GetValueOrDefault("messaging.kafka.network.transmitted") > 0);
            Assert.Contains("messaging.kafka.producer.queue.message_count", measurements.Keys);
        }
    }
}
