using Microsoft.EntityFrameworkCore;
using Payment.Api.Infrastructure;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Testing;

namespace Payment.Tests.Processing;

/// <summary>
/// A real PostgreSQL, started through the hosting layer once for the collection; each test gets a payment database of
/// its own with payment's migrations applied.
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

    /// <summary>A new payment database with every migration applied; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var connectionString = await Infrastructure.CreateDatabaseAsync("postgres", $"payment_{Guid.NewGuid():N}", cancellationToken);
        await using var context = new PaymentContext(new DbContextOptionsBuilder<PaymentContext>().UseNpgsql(connectionString).Options);
        await context.Database.MigrateAsync(cancellationToken);
        return connectionString;
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
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Payment on PostgreSQL";
}
