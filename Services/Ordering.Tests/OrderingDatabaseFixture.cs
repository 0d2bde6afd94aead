using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrderingService = Ordering.Api.Extensions.Extensions;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Testing;
using OrderLine = Ordering.Api.Model.OrderLine;

namespace Ordering.Tests;

/// <summary>
/// A real PostgreSQL, started through the hosting layer once for the collection; each test gets a fresh ordering
/// database with the service's migrations applied.
/// </summary>
public sealed class OrderingDatabaseFixture : IAsyncLifetime
{
    private TestInfrastructure? _infrastructure;

    public async Task InitializeAsync()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddPostgres("postgres");
        _infrastructure = await TestInfrastructure.StartAsync(builder, TimeSpan.FromSeconds(90), "postgres");
    }

    /// <summary>
    /// Ordering's database context and event bus as the service registers them (the outbox its handlers write to), on
    /// a new migrated database. The host is built, never started: nothing is published or consumed.
    /// </summary>
    public async Task<IHost> CreateOrderingAsync(CancellationToken cancellationToken)
    {
        var infrastructure = _infrastructure ?? throw new InvalidOperationException("The fixture has not started.");
        var connectionString = await infrastructure.CreateDatabaseAsync("postgres", $"ordering_{Guid.NewGuid():N}", cancellationToken);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "Ordering.Tests" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{OrderingService.DatabaseConnectionName}"] = connectionString,
            // Never connected to: the relay and the consumer are hosted services, and the host is not started.
            [$"ConnectionStrings:{OrderingService.KafkaConnectionName}"] = "127.0.0.1:1",
        });
        builder.Services.AddLogging();
        builder.AddNpgsqlDbContext<OrderingContext>(OrderingService.DatabaseConnectionName);
        builder.AddEventBus<OrderingContext>(OrderingService.KafkaConnectionName, options => options.GroupId = OrderingService.ConsumerGroup);
        var host = builder.Build();

        await using var scope = host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<OrderingContext>().Database.MigrateAsync(cancellationToken);
        return host;
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
public sealed class OrderingDatabaseCollection : ICollectionFixture<OrderingDatabaseFixture>
{
    public const string Name = "Ordering on PostgreSQL";
}

/// <summary>A test on its own migrated ordering database (<see cref="OrderingDatabaseFixture.CreateOrderingAsync"/>).</summary>
public abstract class OrderingDatabaseTest(OrderingDatabaseFixture database) : IAsyncLifetime
{
    protected IHost Ordering { get; private set; } = null!;

    public async Task InitializeAsync() => Ordering = await database.CreateOrderingAsync(CancellationToken.None);

    public Task DisposeAsync()
    {
        Ordering.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Stores a submitted order of one backpack (129.00 USD) for <paramref name="buyerId"/>, first moved on by <paramref name="advance"/>.</summary>
    protected async Task<Guid> SeedOrderAsync(string buyerId, Action<Order, DateTimeOffset>? advance = null)
    {
        await using var scope = Ordering.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderingContext>();
        var now = TimeProvider.System.GetUtcNow();
        var order = Order.Submit(
            Guid.CreateVersion7(), buyerId, $"key-{Guid.NewGuid():N}", "hash", "USD",
            [new OrderLine { ProductId = 1, ProductName = "Trailhead 40L Backpack", UnitPrice = 129.00m, Quantity = 1 }],
            now);
        advance?.Invoke(order, now);
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        return order.Id;
    }
}
