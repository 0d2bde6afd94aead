namespace Shop.EventBus.Tests;

/// <summary>
/// One test's ledger: database, broker (librdkafka settings of the broker's admin user, from
/// <c>GetKafkaClientConfigAsync</c>), topic prefix and consumer group.
/// </summary>
public sealed record LedgerSetup(string ConnectionString, IReadOnlyDictionary<string, string> Kafka, string TopicPrefix, string GroupId, ITestOutputHelper Output)
{
    public string BootstrapServers => Kafka["bootstrap.servers"];

    /// <summary>
    /// The same sign-in as configuration Shop.Confluent.Kafka binds (<c>Kafka:Producer:Config:SaslUsername</c>, …), as
    /// the AppHost hands it to a service; nothing when the broker needs none.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string?>> KafkaClientSettings() =>
        Kafka.TryGetValue("sasl.username", out var user)
            ? new[] { "Kafka:Producer:Config", "Kafka:Consumer:Config" }.SelectMany(section => new Dictionary<string, string?>
            {
                [$"{section}:SecurityProtocol"] = "SaslPlaintext",
                [$"{section}:SaslMechanism"] = "Plain",
                [$"{section}:SaslUsername"] = user,
                [$"{section}:SaslPassword"] = Kafka["sasl.password"],
            })
            : [];

    public string Topic => TopicPrefix + "ledger.orders";

    public string DeadLetterTopic => $"{TopicPrefix}{GroupId}.dead-letter";
}
