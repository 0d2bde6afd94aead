using LedgerService;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Shop.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;

namespace Shop.EventBus.Tests;

/// <summary>
/// A real PostgreSQL server and the project's Kafka broker, started through the hosting layer once per test
/// collection. Each test gets a fresh, migrated database of its own and its own topic prefix and consumer group.
/// </summary>
public class InfrastructureFixture : IAsyncLifetime
{
    private static int s_databases;
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The fixture has not started.");

    public string BootstrapServers { get; private set; } = "";

    private string ServerConnectionString { get; set; } = "";

    protected virtual void AddResources(
        IDistributedApplicationTestingBuilder builder,
        IResourceBuilder<PostgresServerResource> postgres,
        IResourceBuilder<KafkaServerResource> kafka)
    {
    }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var builder = DistributedApplicationTestingBuilder.Create();
        var postgres = builder.AddPostgres("postgres");
        var kafka = builder.AddKafka("kafka");
        AddResources(builder, postgres, kafka);
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("kafka", timeout.Token);
        ServerConnectionString = await _app.GetConnectionStringAsync("postgres", timeout.Token)
            ?? throw new InvalidOperationException("postgres has no connection string.");
        BootstrapServers = await _app.GetConnectionStringAsync("kafka", timeout.Token)
            ?? throw new InvalidOperationException("kafka has no connection string.");
    }

    /// <summary>A new database with the ledger's migrations (and so the bus's tables) applied, unless <paramref name="migrate"/> is false.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken, bool migrate = true)
    {
        var name = $"ledger_{Interlocked.Increment(ref s_databases)}_{Guid.NewGuid():N}"[..40];
        var server = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres" };
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
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
        return new LedgerSetup(await CreateDatabaseAsync(cancellationToken), BootstrapServers, $"t{id}.", $"ledger-{id}", output);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
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
