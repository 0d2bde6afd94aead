using Identity.Api.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Testing;

namespace Identity.Tests.Keys;

/// <summary>
/// A real PostgreSQL, started through the hosting layer once for the collection; each test gets a database of its own
/// with identity's migrations applied.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private TestInfrastructure? _infrastructure;

    private TestInfrastructure Infrastructure => _infrastructure ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddPostgres("postgres");
        _infrastructure = await TestInfrastructure.StartAsync(builder, TimeSpan.FromSeconds(90), "postgres");
    }

    /// <summary>A new identity database, migrated up to <paramref name="migration"/> (every migration when null).</summary>
    public async Task<string> CreateDatabaseAsync(string? migration, CancellationToken cancellationToken)
    {
        var connectionString = await Infrastructure.CreateDatabaseAsync("postgres", $"identity_{Guid.NewGuid():N}", cancellationToken);
        await using var context = CreateContext(connectionString);
        await context.GetService<IMigrator>().MigrateAsync(migration, cancellationToken: cancellationToken);
        return connectionString;
    }

    public static ApplicationDbContext CreateContext(string connectionString) =>
        new(new DbContextOptionsBuilder<ApplicationDbContext>().UseNpgsql(connectionString).Options);

    public async Task DisposeAsync()
    {
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Identity on PostgreSQL";
}
