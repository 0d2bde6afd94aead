using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Shop.Confluent.Kafka;

const string Topic = "echo";
var builder = WebApplication.CreateBuilder(args);
builder.AddKafkaProducer<string, string>("kafka", configureSettings: settings => settings.Acks = Acks.All);
builder.AddKafkaConsumer<string, string>("kafka", settings =>
{
    settings.GroupId = "echo";
    settings.AutoOffsetReset = AutoOffsetReset.Earliest;
});
builder.Services.AddSingleton<ConcurrentQueue<string>>();
builder.Services.AddHostedService<Receiver>();

var app = builder.Build();
app.MapHealthChecks("/health", new HealthCheckOptions());
app.MapPost("/messages", async (string text, IProducer<string, string> producer) =>
{
    var delivered = await producer.ProduceAsync(Topic, new Message<string, string> { Key = "test", Value = text });
    return Results.Ok(new { partition = delivered.Partition.Value, offset = delivered.Offset.Value });
});
app.MapGet("/messages", (ConcurrentQueue<string> received) => received.ToArray());
app.Run();

/// <summary>Records every message of the topic.</summary>
internal sealed class Receiver(IConsumer<string, string> consumer, ConcurrentQueue<string> received) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        consumer.Subscribe("echo");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (consumer.Consume(stoppingToken) is { Message: { } message })
                {
                    received.Enqueue(message.Value);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                // The topic does not exist until the first message creates it: librdkafka reports that and goes on.
            }
        }

        consumer.Close();
    }, stoppingToken);
}
