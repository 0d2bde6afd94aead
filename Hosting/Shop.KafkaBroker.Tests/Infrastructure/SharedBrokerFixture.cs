namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>One broker shared by the tests of a collection; each test uses its own topics and groups.</summary>
public sealed class SharedBrokerFixture : IAsyncLifetime
{
    public BrokerProcess Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await BrokerProcess.StartAsync("--default-partitions", "3");

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedBrokerCollection : ICollectionFixture<SharedBrokerFixture>
{
    public const string Name = "shared broker";
}
