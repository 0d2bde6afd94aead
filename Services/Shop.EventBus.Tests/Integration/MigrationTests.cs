using LedgerService;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Shop.EventBus.Tests;

/// <summary>Shop.Data's start-up migration (<c>AddMigration</c>), on the ledger's context and a real server.</summary>
[Collection(BusCollection.Name)]
public sealed class MigrationTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task The_connection_that_applied_migrations_is_closed_while_a_start_without_migrations_keeps_its_pool()
    {
        var connectionString = await infrastructure.CreateDatabaseAsync(Eventually.Timeout(), migrate: false);

        // The seeder runs on the connection that migrated; its server process id names that connection.
        var (migratingHost, migrating) = await StartAsync(connectionString);
        using (migratingHost)
        {
            Assert.Empty(await Ledger.QueryAsync(connectionString, db => db.Database.GetPendingMigrationsAsync()));
            await Eventually.HoldsAsync(async () => !await IsConnectedAsync(connectionString, migrating), "the migrating connection is closed");
        }

        // Nothing left to migrate: the pool keeps the seeder's connection, as it keeps any other.
        var (host, notMigrating) = await StartAsync(connectionString);
        using (host)
        {
            Assert.True(await IsConnectedAsync(connectionString, notMigrating), "a start without migrations keeps its pooled connection");
        }
    }

    private static async Task<(IHost Host, int SeederBackend)> StartAsync(string connectionString)
    {
        // A pool of its own for each start, as each process has: Npgsql pools by connection string.
        var pooled = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = $"migration-test-{Guid.NewGuid():N}" }.ConnectionString;
        var backend = 0;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Services.AddDbContext<LedgerContext>(options => options.UseNpgsql(pooled));
        builder.Services.AddMigration<LedgerContext>(async (db, _, cancellationToken) =>
            backend = await db.Database.SqlQuery<int>($"SELECT pg_backend_pid() AS \"Value\"").SingleAsync(cancellationToken));
        var host = builder.Build();
        await host.StartAsync();
        Assert.NotEqual(0, backend);
        return (host, backend);
    }

    private static async Task<bool> IsConnectedAsync(string connectionString, int backend)
    {
        var direct = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(direct);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE pid = @pid", connection);
        command.Parameters.AddWithValue("pid", backend);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
