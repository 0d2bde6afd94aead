using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Products.Api.Infrastructure;
using Products.Api.Inventory;
using Shop.Hosting;
using Shop.Hosting.Testing;

namespace Products.Tests.Integration;

/// <summary>
/// A real PostgreSQL and Redis, started through the hosting layer once for the collection; each test gets a fresh
/// database with the service's migrations applied.
/// </summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    private DistributedApplication? _app;
    private string _serverConnectionString = "";

    public string RedisConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddPostgres("postgres");
        builder.AddRedis("cache");
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("cache", timeout.Token);
        _serverConnectionString = await _app.GetConnectionStringAsync("postgres", timeout.Token)
            ?? throw new InvalidOperationException("postgres has no connection string.");
        RedisConnectionString = await _app.GetConnectionStringAsync("cache", timeout.Token)
            ?? throw new InvalidOperationException("cache has no connection string.");
    }

    /// <summary>A new, empty database on the server; its connection string.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(CancellationToken cancellationToken)
    {
        var name = $"products_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_serverConnectionString) { Database = "postgres" }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(_serverConnectionString) { Database = name, MaxPoolSize = 200 }.ConnectionString;
    }

    /// <summary>
    /// A new products database, migrated up to <paramref name="targetMigration"/> (by default the latest), and services
    /// that use it as the service does.
    /// </summary>
    public async Task<ServiceProvider> CreateProductsDatabaseAsync(CancellationToken cancellationToken, string? targetMigration = null)
    {
        var connectionString = await CreateEmptyDatabaseAsync(cancellationToken);
        var services = new ServiceCollection()
            .AddDbContext<ProductsContext>(options => options.UseNpgsql(connectionString))
            .AddSingleton(TimeProvider.System)
            .AddScoped<InventoryService>()
            .BuildServiceProvider();
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ProductsContext>().GetService<IMigrator>().MigrateAsync(targetMigration, cancellationToken);
        return services;
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
public sealed class InfrastructureCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "Products on PostgreSQL and Redis";
}
