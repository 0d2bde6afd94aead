namespace Shop.EventBus.Tests;

/// <summary>One test's ledger: database, broker, topic prefix and consumer group.</summary>
public sealed record LedgerSetup(string ConnectionString, string BootstrapServers, string TopicPrefix, string GroupId, ITestOutputHelper Output)
{
    public string Topic => TopicPrefix + "ledger.orders";

    public string DeadLetterTopic => $"{TopicPrefix}{GroupId}.dead-letter";
}
