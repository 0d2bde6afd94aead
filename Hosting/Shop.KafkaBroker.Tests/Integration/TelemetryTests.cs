using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.KafkaBroker.Tests.Integration;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Logs_and_metrics_including_group_lag_are_exported_over_otlp()
    {
        var port = FreePort();
        using var receiver = new HttpListener();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var posts = new ConcurrentQueue<(string Path, string Body)>();
        // HttpListener's Abort does not always complete a pending GetContextAsync on Linux (a CI run waited out the
        // 30 s below): the loop stops on this token instead.
        using var stopReceiving = new CancellationTokenSource();
        var receiving = Task.Run(async () =>
        {
            while (!stopReceiving.IsCancellationRequested)
            {
                try
                {
                    var context = await receiver.GetContextAsync().WaitAsync(stopReceiving.Token);
                    using var body = new MemoryStream();
                    await context.Request.InputStream.CopyToAsync(body, stopReceiving.Token);
                    posts.Enqueue((context.Request.Url!.AbsolutePath, Encoding.Latin1.GetString(body.ToArray())));
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
                catch (OperationCanceledException) when (stopReceiving.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
                {
                    // Stopping the listener disposes an export the broker is still sending: that is the end of the test.
                    // While listening, one broken export request is no reason to stop receiving the next ones.
                    if (!receiver.IsListening)
                    {
                        break;
                    }
                }
            }
        });

        await using var broker = await BrokerProcess.StartAsync(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "500",
            ["OTEL_SERVICE_NAME"] = "kafka",
        });

        var log = new ClientLog();
        using (var producer = log.BuildProducer<Null, string>(log.Producer(broker.BootstrapServers)))
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync("telemetry", new Message<Null, string> { Value = $"m{i}" });
            }
        }

        using (var consumer = log.BuildConsumer<Null, string>(log.Consumer(broker.BootstrapServers, "telemetry-group")))
        {
            consumer.Commit([new TopicPartitionOffset("telemetry", 0, 4)]);
        }

        bool Exported(string path, string text) => posts.Any(p => p.Path == path && p.Body.Contains(text, StringComparison.Ordinal));
        await Wait.UntilAsync(() => Exported("/v1/metrics", "kafka.consumer_group.lag") && Exported("/v1/metrics", "kafka.broker.records_in")
            && Exported("/v1/logs", "Kafka broker listening on"), TimeSpan.FromSeconds(30), "OTLP metrics and logs");
        Assert.True(Exported("/v1/metrics", "telemetry-group"), "the lag gauge is tagged with the group");
        Assert.True(Exported("/v1/metrics", "kafka.broker.active_connections"));

        // The broker first, so that no export is under way, then the receiver. Stopped while the broker still posted
        // every 500 ms, the listener once left the receiving loop waiting for ever (a CI run hung here).
        await broker.StopAsync();
        await stopReceiving.CancelAsync();
        receiver.Abort();
        await receiving.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
