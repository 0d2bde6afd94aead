namespace Shop.Confluent.Kafka.Tests;

/// <summary>Starts the project's broker on a free port with a temporary data directory; kills and deletes both at the end.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "shop-kafka-client-tests", Guid.NewGuid().ToString("N"));
    private BrokerProcess? _broker;

    public string BootstrapServers => _broker?.BootstrapServers ?? "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        _broker = await BrokerProcess.StartAsync(_dataDir);
    }

    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        Directory.Delete(_dataDir, recursive: true);
    }
}
