using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Products.Api.Infrastructure;

namespace Products.Tests.Integration;

/// <summary>Shop.Data's start-up migration (<c>AddMigration</c>) with products' own migrations, on a real server.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class StartupMigrationTests(InfrastructureFixture infrastructure)
{
    /// <summary>
    /// Replicas start together on a fresh database (the AppHost's <c>--Replicas:products=2</c>): each finds every
    /// migration pending. EF Core's own migration lock does not keep two of them from applying a migration twice here
    /// (one crashed on "column already exists"), so the start-up migration holds a lock of its own.
    /// </summary>
    [Fact]
    public async Task Replicas_starting_together_on_a_fresh_database_migrate_it_once_and_all_start()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var connectionString = await infrastructure.CreateEmptyDatabaseAsync(timeout.Token);

        var hosts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => StartReplicaAsync(connectionString, timeout.Token))));
        foreach (var host in hosts)
        {
            await host.StopAsync(timeout.Token);
            host.Dispose();
        }

        await using var db = new ProductsContext(new DbContextOptionsBuilder<ProductsContext>().UseNpgsql(connectionString).Options);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(timeout.Token));
        var applied = (await db.Database.GetAppliedMigrationsAsync(timeout.Token)).ToList();
        Assert.Equal(db.Database.GetMigrations(), applied);
    }

    private static async Task<IHost> StartReplicaAsync(string connectionString, CancellationToken cancellationToken)
    {
        // A pool of its own, as each process has: Npgsql pools by connection string.
        var pooled = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = $"replica-{Guid.NewGuid():N}" }.ConnectionString;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Services.AddDbContext<ProductsContext>(options => options.UseNpgsql(pooled));
        builder.Services.AddMigration<ProductsContext>();
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return host;
    }
}
