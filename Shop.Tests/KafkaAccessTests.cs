using System.Reflection;
using Confluent.Kafka;
using Shop.EventBus;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.IntegrationEvents;

namespace Shop.Tests;

/// <summary>
/// Who may write which Kafka topic in Shop: each service signs in as its own user and produces only to the streams it
/// publishes and its dead-letter topic, so no service (and nobody without credentials) can forge another's events.
/// </summary>
public sealed class KafkaAccessModelTests
{
    private static readonly string[] Publishers = ["products", "ordering", "payment"];

    [Fact]
    public async Task Every_event_stream_has_exactly_one_writer_and_every_publisher_its_dead_letter_topic()
    {
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>();
        await using var app = await appHost.BuildAsync();
        var kafka = Assert.IsType<KafkaServerResource>(appHost.Resources.Find("kafka"));
        var grants = kafka.Users.ToDictionary(u => u.Name, u => u.WriteTopics);

        Assert.Equal(Publishers.Order(), grants.Keys.Order());
        var streams = typeof(Topics).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToList();
        var eventTopics = typeof(Topics).Assembly.GetTypes()
            .Select(t => t.GetCustomAttribute<IntegrationEventTopicAttribute>()?.Topic).OfType<string>().Distinct();
        Assert.Equal(streams.Order(), eventTopics.Order());
        foreach (var stream in streams)
        {
            Assert.Single(grants, g => g.Value.Contains(stream));
        }

        foreach (var (service, topics) in grants)
        {
            Assert.Contains($"{service}.dead-letter", topics);
            Assert.All(topics, topic => Assert.StartsWith(service + ".", topic, StringComparison.Ordinal));
        }
    }

}

/// <summary>The same rules, enforced by the running system's broker.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class KafkaAccessTests(ShopAppFixture shop)
{
    [Fact]
    public async Task A_payment_event_forged_with_another_services_credentials_or_none_is_refused_by_the_broker()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        await shop.App.ResourceNotifications.WaitForResourceHealthyAsync("products", ct);
        Assert.True(shop.App.ResourceNotifications.TryGetCurrentState("products", out var products));
        var variables = products.Snapshot.EnvironmentVariables.ToDictionary(v => v.Name);
        var password = variables["Kafka__Producer__Config__SaslPassword"];
        Assert.True(password.IsSecret);

        // Signed in as products: its own stream is writable, payment's is not.
        var config = new Dictionary<string, string>(await shop.App.GetKafkaClientConfigAsync("kafka", ct))
        {
            ["sasl.username"] = variables["Kafka__Producer__Config__SaslUsername"].Value!,
            ["sasl.password"] = password.Value!,
            ["message.timeout.ms"] = "10000",
        };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var forged = new Message<string, string>
        {
            Key = Guid.NewGuid().ToString(),
            Value = "{}",
            Headers = new Headers { { "event-type", "PaymentSucceededIntegrationEvent"u8.ToArray() } },
        };
        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync(Topics.Payments, forged, ct));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);

        // Without credentials there is no metadata to be had, let alone a write.
        using var anonymous = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = config["bootstrap.servers"] }).Build();
        Assert.Throws<KafkaException>(() => anonymous.GetMetadata(TimeSpan.FromSeconds(3)));
    }
}
