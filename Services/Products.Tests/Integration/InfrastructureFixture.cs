using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Products.Api.Infrastructure;
using Products.Api.Inventory;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Testing;

namespace Products.Tests.Integration;

/// <summary>
/// A real PostgreSQL and Redis, started through the hosting layer once for the collection; each test gets a fresh
/// database with the service's migrations applied.
/// </summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    private TestInfrastructure? _infrastructure;

    private TestInfrastructure Infrastructure => _infrastructure ?? throw new InvalidOperationException("The fixture has not started.");

    public string RedisConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddPostgres("postgres");
        builder.AddRedis("cache");
        _infrastructure = await TestInfrastructure.StartAsync(builder, TimeSpan.FromSeconds(90), "postgres", "cache");
        RedisConnectionString = _infrastructure.GetConnectionString("cache");
    }

    /// <summary>A new, empty database on the server; its connection string.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(CancellationToken cancellationToken)
    {
        var connectionString = await Infrastructure.CreateDatabaseAsync("postgres", $"products_{Guid.NewGuid():N}", cancellationToken);
        return new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 200 }.ConnectionString;
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
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InfrastructureCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "Products on PostgreSQL and Redis";
}
