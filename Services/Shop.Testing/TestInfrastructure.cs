using Npgsql;
using Shop.Hosting;
using Shop.Hosting.Testing;

namespace Shop.Testing;

/// <summary>
/// Servers a test collection shares (PostgreSQL, Redis, the Kafka broker), started through the hosting layer as the
/// AppHost starts them, with their connection strings; on PostgreSQL, each test can have a database of its own.
/// </summary>
public sealed class TestInfrastructure : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _connectionStrings;

    private TestInfrastructure(DistributedApplication app, IReadOnlyDictionary<string, string> connectionStrings)
    {
        App = app;
        _connectionStrings = connectionStrings;
    }

    public DistributedApplication App { get; }

    /// <summary>
    /// Builds and starts <paramref name="builder"/>'s app, and waits until each of <paramref name="servers"/> is healthy
    /// and has its connection string, all within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<TestInfrastructure> StartAsync(IDistributedApplicationTestingBuilder builder, TimeSpan timeout, params string[] servers)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(servers);
        using var cancellation = new CancellationTokenSource(timeout);
        var app = await builder.BuildAsync(cancellation.Token);
        try
        {
            await app.StartAsync(cancellation.Token);
            var connectionStrings = new Dictionary<string, string>();
            foreach (var server in servers)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(server, cancellation.Token);
                connectionStrings[server] = await app.GetConnectionStringAsync(server, cancellation.Token)
                    ?? throw new InvalidOperationException($"{server} has no connection string.");
            }

            return new TestInfrastructure(app, connectionStrings);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The connection string of <paramref name="server"/>, one of the servers waited for at start.</summary>
    public string GetConnectionString(string server) =>
        _connectionStrings.TryGetValue(server, out var connectionString)
            ? connectionString
            : throw new ArgumentException($"'{server}' was not waited for at start (these were: {string.Join(", ", _connectionStrings.Keys)}).", nameof(server));

    /// <summary>
    /// A new, empty database <paramref name="name"/> on the PostgreSQL server <paramref name="server"/>; its connection
    /// string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string server, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var serverConnectionString = GetConnectionString(server);
        // Created from the maintenance database, which every server has.
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres" }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
