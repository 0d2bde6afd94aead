using System.Net;
using System.Net.Sockets;
using LedgerService;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Shop.EventBus.Tests;

/// <summary>
/// The failures the services answer with 503 instead of 500 (<see cref="ProblemDetailsExtensions.FindTransientDatabaseFailure"/>),
/// text they answer with 400 (<see cref="ProblemDetailsExtensions.FindUnstorableText"/>)
/// and those the event bus and background workers wait out (<see cref="DatabaseFailures.IsTransient"/>), as Npgsql and
/// EF Core really throw them, on a real server.
/// </summary>
[Collection(BusCollection.Name)]
public sealed class TransientFailureTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task An_exhausted_connection_pool_surfaces_as_a_transient_database_failure()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await infrastructure.CreateDatabaseAsync(Eventually.Timeout()))
        {
            MaxPoolSize = 1,
            Timeout = 1,
        }.ConnectionString;
        await using var holder = new NpgsqlConnection(connectionString);
        await holder.OpenAsync();

        await using var db = Ledger.OpenContext(connectionString);
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => db.Accounts.CountAsync());

        Assert.True(ProblemDetailsExtensions.FindTransientDatabaseFailure(exception) is not null, $"not transient: {exception}");
        Assert.True(DatabaseFailures.IsTransient(exception), $"not transient for the bus: {exception}");
    }

    [Fact]
    public async Task A_server_that_is_not_there_surfaces_as_a_transient_database_failure()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await infrastructure.CreateDatabaseAsync(Eventually.Timeout()))
        {
            Port = UnusedPort(),
            Pooling = false,
        }.ConnectionString;

        await using var db = Ledger.OpenContext(connectionString);
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => db.Accounts.CountAsync());

        Assert.True(ProblemDetailsExtensions.FindTransientDatabaseFailure(exception) is not null, $"not transient: {exception}");
        Assert.True(DatabaseFailures.IsTransient(exception), $"not transient for the bus: {exception}");
    }

    [Fact]
    public async Task A_statement_the_server_rejects_is_not_transient()
    {
        await using var db = Ledger.OpenContext(await infrastructure.CreateDatabaseAsync(Eventually.Timeout()));

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync("SELECT no_such_column FROM \"Accounts\""));

        Assert.Null(ProblemDetailsExtensions.FindTransientDatabaseFailure(exception));
        Assert.False(DatabaseFailures.IsTransient(exception));
    }

    [Fact]
    public async Task A_table_not_migrated_yet_is_waited_for_by_the_bus_but_is_no_503()
    {
        await using var db = Ledger.OpenContext(await infrastructure.CreateDatabaseAsync(Eventually.Timeout()));

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync("SELECT 1 FROM \"NotMigratedYet\""));

        Assert.True(DatabaseFailures.IsTransient(exception), $"not transient for the bus: {exception}");
        Assert.Null(ProblemDetailsExtensions.FindTransientDatabaseFailure(exception));
    }

    [Fact]
    public async Task Text_with_a_NUL_character_is_refused_by_the_server_as_unstorable_not_as_transient()
    {
        await using var db = Ledger.OpenContext(await infrastructure.CreateDatabaseAsync(Eventually.Timeout()));

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlAsync($"SELECT {"a\0b"}::text"));

        Assert.NotNull(ProblemDetailsExtensions.FindUnstorableText(exception));
        Assert.Null(ProblemDetailsExtensions.FindTransientDatabaseFailure(exception));
        Assert.False(DatabaseFailures.IsTransient(exception));
        Assert.Null(ProblemDetailsExtensions.FindUnstorableText(
            await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync("SELECT no_such_column FROM \"Accounts\""))));
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
