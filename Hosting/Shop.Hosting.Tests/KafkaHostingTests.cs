using System.Net.Http.Json;
using Confluent.Kafka;
using Shop.Hosting.ApplicationModel;
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
            .WithKafkaWriteAccess(kafka, "echo")
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
        Assert.Equal((KnownResourceStates.Exited, 0), (stopped.Snapshot.State, stopped.Snapshot.ExitCode));
    }

    [Fact]
    public async Task Each_service_gets_its_own_SASL_user_whose_password_the_dashboard_masks_and_the_broker_refuses_its_writes_elsewhere()
    {
        var ct = TestApp.Timeout(120);
        var builder = TestApp.Create(output);
        var kafka = builder.AddKafka("kafka");
        builder.AddProject<Projects.KafkaEcho>("echo")
            .WithReference(kafka).WaitFor(kafka)
            .WithKafkaWriteAccess(kafka, "echo")
            .WithHttpHealthCheck("/health");
        builder.AddExecutable("other", "sleep", ".", "120").WithReference(kafka).WaitFor(kafka);

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        var echo = await app.ResourceNotifications.WaitForResourceHealthyAsync("echo", ct);
        var other = await app.ResourceNotifications.WaitForResourceAsync("other", KnownResourceStates.Running, ct);
        var broker = await app.ResourceNotifications.WaitForResourceHealthyAsync("kafka", ct);

        // The service's environment: the settings Shop.Confluent.Kafka binds, for its producers and its consumers.
        var variables = echo.Snapshot.EnvironmentVariables.ToDictionary(v => v.Name);
        foreach (var section in new[] { "Kafka__Producer__Config", "Kafka__Consumer__Config" })
        {
            Assert.Equal("SaslPlaintext", variables[$"{section}__SecurityProtocol"].Value);
            Assert.Equal("Plain", variables[$"{section}__SaslMechanism"].Value);
            Assert.Equal(("echo", false), (variables[$"{section}__SaslUsername"].Value, variables[$"{section}__SaslUsername"].IsSecret));
            Assert.True(variables[$"{section}__SaslPassword"].IsSecret, "the dashboard masks the password");
            Assert.Matches("^[A-Za-z0-9]{24}$", variables[$"{section}__SaslPassword"].Value);
        }

        // Each resource its own password; the broker knows them as secrets too (environment, not command line).
        var password = variables["Kafka__Producer__Config__SaslPassword"].Value!;
        var otherPassword = other.Snapshot.EnvironmentVariables.Single(v => v.Name == "Kafka__Producer__Config__SaslPassword").Value;
        Assert.NotEqual(password, otherPassword);
        var brokerVariables = broker.Snapshot.EnvironmentVariables.ToDictionary(v => v.Name);
        Assert.Equal((password, true), (brokerVariables["KafkaBroker__Sasl__Users__echo__Password"].Value, brokerVariables["KafkaBroker__Sasl__Users__echo__Password"].IsSecret));
        Assert.Equal("echo", brokerVariables["KafkaBroker__Sasl__Users__echo__Write"].Value);
        Assert.Equal("", brokerVariables["KafkaBroker__Sasl__Users__other__Write"].Value);
        Assert.True(brokerVariables["KafkaBroker__Sasl__Users__admin__Password"].IsSecret);
        Assert.True(app.ResourceNotifications.TryGetCurrentState("kafka", out var running));
        Assert.NotNull(running.Snapshot.ProcessId);
        var commandLine = await File.ReadAllTextAsync($"/proc/{running.Snapshot.ProcessId}/cmdline", ct);
        Assert.DoesNotContain(password, commandLine);

        // Signed in as echo, a client may write echo's topic and no other.
        var config = new Dictionary<string, string>(await app.GetKafkaClientConfigAsync("kafka", ct))
        {
            ["sasl.username"] = "echo",
            ["sasl.password"] = password,
            ["message.timeout.ms"] = "10000",
        };
        using var producer = new ProducerBuilder<Null, string>(config).Build();
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("echo", new Message<Null, string> { Value = "own" }, ct)).Status);
        var refused = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("ordering.orders", new Message<Null, string> { Value = "forged" }, ct));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);

        // Without credentials the broker answers nothing but ApiVersions: no metadata.
        using var anonymous = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = config["bootstrap.servers"] }).Build();
        Assert.Throws<KafkaException>(() => anonymous.GetMetadata(TimeSpan.FromSeconds(3)));
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
        var kafka = second.AddKafka("kafka");
        second.AddExecutable("client", "sleep", ".", "120").WithReference(kafka).WithKafkaWriteAccess(kafka, "anything");
        await using var app = await second.BuildAsync(ct);
        await app.StartAsync(ct);

        // Healthy by ApiVersions, which a cluster answers before authentication: its security is its own business.
        var existingKafka = await app.ResourceNotifications.WaitForResourceHealthyAsync("kafka", ct);
        Assert.Null(existingKafka.Snapshot.ProcessId);
        Assert.Equal(existing, await app.GetConnectionStringAsync("kafka", ct));

        // Nothing about SASL is imposed: the client gets the bootstrap servers, the test only those.
        var client = await app.ResourceNotifications.WaitForResourceAsync("client", KnownResourceStates.Running, ct);
        Assert.Equal(["ConnectionStrings__kafka"], client.Snapshot.EnvironmentVariables.Select(v => v.Name).Where(n => n.Contains("kafka", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(["bootstrap.servers"], (await app.GetKafkaClientConfigAsync("kafka", ct)).Keys);
    }
}
