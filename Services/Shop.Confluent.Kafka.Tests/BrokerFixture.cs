using Shop.KafkaBroker.Tests.Infrastructure;

namespace Shop.Confluent.Kafka.Tests;

/// <summary>The project's broker on a free port with a temporary data directory, killed and deleted at the end.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private BrokerProcess? _broker;

    public string BootstrapServers => _broker?.BootstrapServers ?? "";

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}
