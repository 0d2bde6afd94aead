using LedgerService;
using Microsoft.EntityFrameworkCore;
using Shop.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;
using Shop.Testing;

namespace Shop.EventBus.Tests;

/// <summary>
/// A real PostgreSQL server and the project's Kafka broker, started through the hosting layer once per test
/// collection. Each test gets a fresh, migrated database of its own and its own topic prefix and consumer group.
/// </summary>
public class InfrastructureFixture : IAsyncLifetime
{
    private static int s_databases;
    private TestInfrastructure? _infrastructure;

    public DistributedApplication App => Infrastructure.App;

    /// <summary>librdkafka settings of the broker's admin user (a super user): bootstrap servers and SASL/PLAIN.</summary>
    public IReadOnlyDictionary<string, string> Kafka { get; private set; } = new Dictionary<string, string>();

    private TestInfrastructure Infrastructure => _infrastructure ?? throw new InvalidOperationException("The fixture has not started.");

    protected virtual void AddResources(
        IDistributedApplicationTestingBuilder builder,
        IResourceBuilder<PostgresServerResource> postgres,
        IResourceBuilder<KafkaServerResource> kafka)
    {
    }

    public async Task InitializeAsync()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var postgres = builder.AddPostgres("postgres");
        var kafka = builder.AddKafka("kafka");
        AddResources(builder, postgres, kafka);
        _infrastructure = await TestInfrastructure.StartAsync(builder, TimeSpan.FromSeconds(120), "postgres", "kafka");
        Kafka = await _infrastructure.App.GetKafkaClientConfigAsync("kafka");
    }

    /// <summary>A new database with the ledger's migrations (and so the bus's tables) applied, unless <paramref name="migrate"/> is false.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken, bool migrate = true)
    {
        var name = $"ledger_{Interlocked.Increment(ref s_databases)}_{Guid.NewGuid():N}"[..40];
        var connectionString = await Infrastructure.CreateDatabaseAsync("postgres", name, cancellationToken);
        if (!migrate)
        {
            return connectionString;
        }

        await using var db = Ledger.OpenContext(connectionString);
        await db.Database.MigrateAsync(cancellationToken);
        return connectionString;
    }

    /// <summary>Everything a test needs to host the ledger: its database, the broker, and names no other test uses.</summary>
    public async Task<LedgerSetup> CreateLedgerAsync(ITestOutputHelper output, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        return new LedgerSetup(await CreateDatabaseAsync(cancellationToken), Kafka, $"t{id}.", $"ledger-{id}", output);
    }

    public async Task DisposeAsync()
    {
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BusCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "Event bus on PostgreSQL and Kafka";
}

/// <summary>
/// Infrastructure the fault tests may break: they stop the broker, and kill the ledger service (run as a process of
/// its own, as the AppHost runs services) in the middle of relaying.
/// </summary>
public sealed class FaultInfrastructureFixture : InfrastructureFixture
{
    public const string LedgerResource = "ledger";
    public const string LedgerTopicPrefix = "crash.";
    public const int LedgerBatchSize = 5;

    protected override void AddResources(
        IDistributedApplicationTestingBuilder builder,
        IResourceBuilder<PostgresServerResource> postgres,
        IResourceBuilder<KafkaServerResource> kafka)
    {
        var database = postgres.AddDatabase(LedgerExtensions.DatabaseConnectionName);
        builder.AddProject<Projects.LedgerService>(LedgerResource)
            .WithReference(database).WaitFor(database)
            .WithReference(kafka).WaitFor(kafka)
            // Its own Kafka user writes its topics and its dead-letter topic, all under its prefix.
            .WithKafkaWriteAccess(kafka, LedgerTopicPrefix + "*")
            .WithEnvironment("EventBus__TopicPrefix", LedgerTopicPrefix)
            .WithEnvironment("EventBus__RelayBatchSize", LedgerBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("EventBus__RelayPollInterval", "00:00:00.200")
            // A killed member holds its partitions until its session times out (45 s by default); the test kills one.
            .WithEnvironment("Kafka__Consumer__Config__SessionTimeoutMs", "6000")
            .WithEnvironment("Logging__LogLevel__Microsoft.EntityFrameworkCore", "Warning")
            .WithHttpHealthCheck("/health");
    }
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultInfrastructureFixture>
{
    public const string Name = "Event bus under faults";
}
