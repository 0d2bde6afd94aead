using Identity.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Shop.Hosting;
using Shop.Hosting.Testing;

namespace Identity.Tests.Keys;

/// <summary>
/// A real PostgreSQL, started through the hosting layer once for the collection; each test gets a database of its own
/// with identity's migrations applied.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private DistributedApplication? _app;
    private string _serverConnectionString = "";

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddPostgres("postgres");
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
        _serverConnectionString = await _app.GetConnectionStringAsync("postgres", timeout.Token)
            ?? throw new InvalidOperationException("postgres has no connection string.");
    }

    /// <summary>A new identity database, migrated up to <paramref name="migration"/> (every migration when null).</summary>
    public async Task<string> CreateDatabaseAsync(string? migration, CancellationToken cancellationToken)
    {
        var name = $"identity_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_serverConnectionString) { Database = "postgres" }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(_serverConnectionString) { Database = name }.ConnectionString;
        await using var context = CreateContext(connectionString);
        await context.GetService<IMigrator>().MigrateAsync(migration, cancellationToken: cancellationToken);
        return connectionString;
    }

    public static ApplicationDbContext CreateContext(string connectionString) =>
        new(new DbContextOptionsBuilder<ApplicationDbContext>().UseNpgsql(connectionString).Options);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Identity on PostgreSQL";
}
