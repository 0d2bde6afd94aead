using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Tests.Infrastructure;
using Shop.Testing;
using Xunit.Abstractions;

namespace Shop.Confluent.Kafka.Tests;

/// <summary>What the registered clients do, and log, while no broker answers.</summary>
public sealed class KafkaOutageTests(ITestOutputHelper output)
{
    private const string Outages = "cannot reach";
    private const string Recoveries = "is connected again";
    private const string Producer = "Shop.Confluent.Kafka.Producer.kafka";
    private const string Consumer = "Shop.Confluent.Kafka.Consumer.kafka";

    /// <summary>How long the clients are left without a broker: long enough for an unpaced client to try dozens of times.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);

    private static HostApplicationBuilder Builder(LogCollector log, string bootstrapServers, params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:kafka", bootstrapServers)]);
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.Logging.ClearProviders().AddProvider(log).SetMinimumLevel(LogLevel.Debug);
        return builder;
    }

    private static string ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    private static int Count(LogCollector log, string text, LogLevel level) =>
        log.Entries.Count(e => e.Level == level && e.Message.Contains(text, StringComparison.Ordinal));

    private static IEnumerable<LogEntry> Warnings(LogCollector log, string category) =>
        log.Entries.Where(e => e.Category == category && e.Level >= LogLevel.Warning);

    /// <summary>Polls the consumer for <paramref name="duration"/>, as the event bus's consumer does.</summary>
    private static void Poll(IConsumer<string, string> consumer, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public void Clients_back_off_between_connection_attempts_while_no_broker_answers()
    {
        var log = new LogCollector();
        // librdkafka's broker debug lines say each time it connects.
        var builder = Builder(log, ClosedPort(), ("Kafka:Producer:Config:Debug", "broker"), ("Kafka:Consumer:Config:Debug", "broker"));
        builder.AddKafkaProducer<string, string>("kafka");
        builder.AddKafkaConsumer<string, string>("kafka", c => c.GroupId = "outage");
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<IProducer<string, string>>();
        var consumer = host.Services.GetRequiredService<IConsumer<string, string>>();
        consumer.Subscribe("outage");

        Poll(consumer, Outage);

        // Paced, the consumer's coordinator lookup connects about twice a second and the producer less often; at
        // librdkafka's default reconnect.backoff.ms the lookup connected every 50 ms (about 60 times in 3 s).
        var attempts = log.Entries.Count(e => e.Message.Contains(": Connecting to ", StringComparison.Ordinal));
        Assert.InRange(attempts, 2, 20);
        consumer.Close();
    }

    [Fact]
    public async Task Each_failed_health_probe_is_one_line_without_a_stack_trace()
    {
        var log = new LogCollector();
        var builder = Builder(log, ClosedPort());
        builder.AddKafkaProducer<string, string>("kafka");
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        for (var probe = 0; probe < 2; probe++)
        {
            Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
        }

        // ASP.NET Core's health-check service logs each failed probe; the client's own log has the outage once.
        var failures = log.Entries.Where(e => e.Level >= LogLevel.Warning && e.Category.Contains("HealthCheck", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.Null(f.Exception));
        Assert.All(failures, f => Assert.Contains("Metadata request failed: ", f.Message, StringComparison.Ordinal));
        Assert.Single(Warnings(log, Producer));
    }

    [Fact]
    public async Task A_stopped_broker_is_one_warning_per_client_and_its_return_one_information_line()
    {
        await using var broker = await BrokerProcess.StartAsync();
        var log = new LogCollector();
        // Statistics, which tell the log that the brokers are back, every 200 ms rather than 5 s.
        var builder = Builder(log, broker.BootstrapServers,
            ("Kafka:Producer:Config:StatisticsIntervalMs", "200"), ("Kafka:Consumer:Config:StatisticsIntervalMs", "200"));
        builder.AddKafkaProducer<string, string>("kafka");
        builder.AddKafkaConsumer<string, string>("kafka", c =>
        {
            c.GroupId = "outage";
            c.AutoOffsetReset = AutoOffsetReset.Earliest;
        });
        var topic = $"outage-{Guid.NewGuid():N}";
        using var host = builder.Build();
        var producer = host.Services.GetRequiredService<IProducer<string, string>>();
        var consumer = host.Services.GetRequiredService<IConsumer<string, string>>();
        using var stop = new CancellationTokenSource();
        var received = 0;
        var polling = Task.Factory.StartNew(() =>
        {
            consumer.Subscribe(topic);
            while (!stop.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message: not null })
                {
                    Interlocked.Increment(ref received);
                }
            }

            consumer.Close();
        }, TaskCreationOptions.LongRunning);
        try
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "before", Value = "the outage" });
            await WaitUntilAsync(() => Volatile.Read(ref received) >= 1, "the consumer has the first message");

            await broker.CrashAsync();
            // The producer has a message to deliver while the broker is down, as the outbox relay would.
            var delivery = producer.ProduceAsync(topic, new Message<string, string> { Key = "during", Value = "the outage" });
            await WaitUntilAsync(() => Warnings(log, Producer).Any() && Warnings(log, Consumer).Any(), "each client has warned");
            await Task.Delay(Outage);

            var warnings = log.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
            foreach (var warning in warnings)
            {
                output.WriteLine($"{warning.Level} {warning.Category}: {warning.Message}");
            }

            // Each failed connection attempt used to be two lines (librdkafka's and the error callback's): dozens here.
            Assert.InRange(warnings.Count, 2, 4);
            Assert.Contains(Warnings(log, Producer), w => w.Message.Contains(Outages, StringComparison.Ordinal));
            Assert.Contains(Warnings(log, Consumer), w => w.Message.Contains(Outages, StringComparison.Ordinal));
            Assert.All(warnings, w => Assert.Contains(broker.BootstrapServers, w.Message, StringComparison.Ordinal));
            Assert.Contains(log.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("Connection refused", StringComparison.Ordinal));

            await broker.RestartAsync();
            Assert.Equal(PersistenceStatus.Persisted, (await delivery).Status);
            await WaitUntilAsync(() => Count(log, Recoveries, LogLevel.Information) >= 2, "each client says it is connected again");
            Assert.Single(log.Entries, e => e.Category == Producer && e.Message.Contains(Recoveries, StringComparison.Ordinal));
            Assert.Single(log.Entries, e => e.Category == Consumer && e.Message.Contains(Recoveries, StringComparison.Ordinal));
            // The outage is over for the log: no new outage and no count of connection errors. Other warnings may
            // follow a broker's restart and are news (the consumer's offset commit for the group generation the
            // restarted broker no longer knows, before it joins again).
            var later = log.Entries.Where(e => e.Level >= LogLevel.Warning).Skip(warnings.Count)
                .Where(e => e.Message.Contains(Outages, StringComparison.Ordinal) || e.Message.Contains("connection errors", StringComparison.Ordinal))
                .ToList();
            Assert.True(later.Count == 0, "warned of the outage again: " + string.Join(" | ", later.Select(e => $"{e.Category}: {e.Message}")));
        }
        finally
        {
            await stop.CancelAsync();
            await polling;
        }
    }
}
