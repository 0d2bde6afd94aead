using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using LedgerService;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Shop.EventBus.Tests;

/// <summary>
/// The failures the services answer with 503 instead of 500 (ServiceDefaults' problem details look for a transient
/// <see cref="DbException"/> in the exception chain), as Npgsql and EF Core really throw them, on a real server.
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

        Assert.True(TransientDatabaseFailure(exception), $"not transient: {exception}");
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

        Assert.True(TransientDatabaseFailure(exception), $"not transient: {exception}");
    }

    [Fact]
    public async Task A_statement_the_server_rejects_is_not_transient()
    {
        await using var db = Ledger.OpenContext(await infrastructure.CreateDatabaseAsync(Eventually.Timeout()));

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync("SELECT no_such_column FROM \"Accounts\""));

        Assert.False(TransientDatabaseFailure(exception), $"transient: {exception}");
    }

    /// <summary>The same test as ServiceDefaults' DatabaseUnavailableExceptionHandler makes.</summary>
    private static bool TransientDatabaseFailure(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is DbException { IsTransient: true })
            {
                return true;
            }
        }

        return false;
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
