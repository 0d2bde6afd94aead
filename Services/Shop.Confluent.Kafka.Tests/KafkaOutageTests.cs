using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Testing;

namespace Shop.Confluent.Kafka.Tests;

/// <summary>What the registered clients do, and log, while no broker answers.</summary>
public sealed class KafkaOutageTests
{
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
}
