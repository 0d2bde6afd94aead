using System.Net.Http.Json;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>AddKafka: the project's broker as a resource, and a service using the Kafka client integration through it.</summary>
public sealed class KafkaHostingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Kafka_becomes_healthy_and_a_service_with_AddKafkaProducer_and_AddKafkaConsumer_exchanges_a_message_through_it()
    {
        var ct = TestApp.Timeout(120);
        var builder = TestApp.Create(output);
        var kafka = builder.AddKafka("kafka");
        builder.AddProject<Projects.KafkaEcho>("echo")
            .WithReference(kafka).WaitFor(kafka)
            .WithHttpHealthCheck("/health");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("kafka", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);

        var bootstrap = await app.GetConnectionStringAsync("kafka", ct);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", bootstrap);

        using var echo = app.CreateHttpClient("echo");
        var text = $"hello {Guid.NewGuid():N}";
        using var sent = await echo.PostAsync($"/messages?text={Uri.EscapeDataString(text)}", null, ct);
        sent.EnsureSuccessStatusCode();

        var received = Array.Empty<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!received.Contains(text) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
            received = await echo.GetFromJsonAsync<string[]>("/messages", ct) ?? [];
        }

        Assert.Contains(text, received);

        // A graceful stop: the broker flushes and exits cleanly.
        await app.StopAsync(ct);
        Assert.True(app.ResourceNotifications.TryGetCurrentState("kafka", out var stopped));
        Assert.Equal((Shop.Hosting.ApplicationModel.KnownResourceStates.Exited, 0), (stopped.Snapshot.State, stopped.Snapshot.ExitCode));
    }

    [Fact]
    public async Task A_configured_connection_string_points_services_at_an_existing_cluster()
    {
        var ct = TestApp.Timeout(120);
        var first = TestApp.Create(output);
        first.AddKafka("kafka");
        await using var cluster = await first.BuildAsync(ct);
        await cluster.StartAsync(ct);
        await cluster.ResourceNotifications.WaitForResourceHealthyAsync("kafka", ct);
        var existing = await cluster.GetConnectionStringAsync("kafka", ct);

        var second = TestApp.Create(output, $"--ConnectionStrings:kafka={existing}");
        second.AddKafka("kafka");
        await using var app = await second.BuildAsync(ct);
        await app.StartAsync(ct);

        var kafka = await app.ResourceNotifications.WaitForResourceHealthyAsync("kafka", ct);
        Assert.Null(kafka.Snapshot.ProcessId);
        Assert.Equal(existing, await app.GetConnectionStringAsync("kafka", ct));
    }
}
