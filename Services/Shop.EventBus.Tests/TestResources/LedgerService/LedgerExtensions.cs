using Microsoft.Extensions.DependencyInjection.Extensions;
using Shop.EventBus;

namespace LedgerService;

public static class LedgerExtensions
{
    public const string DatabaseConnectionName = "ledgerdb";

    /// <summary>All a service writes to use the bus: its context, the bus on that context, and its handlers.</summary>
    public static IHostApplicationBuilder AddLedger(this IHostApplicationBuilder builder, Action<EventBusOptions>? configureBus = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddNpgsqlDbContext<LedgerContext>(DatabaseConnectionName);
        builder.Services.TryAddSingleton<LedgerProbe>();
        builder.AddEventBus<LedgerContext>("kafka", configureBus)
            .AddSubscription<OrderPlacedIntegrationEvent, OrderPlacedHandler>()
            .AddSubscription<OrderPlacedIntegrationEvent, OrderAuditHandler>();

        return builder;
    }

    /// <summary>Places orders for <paramref name="accounts"/> accounts in turn, each order and its event in one transaction.</summary>
    public static async Task<List<OrderPlacedIntegrationEvent>> PlaceOrdersAsync(
        this LedgerContext db, int count, int accounts, string accountPrefix, int perTransaction = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var placed = new List<OrderPlacedIntegrationEvent>(count);
        for (var i = 0; i < count; i += perTransaction)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            for (var j = i; j < Math.Min(count, i + perTransaction); j++)
            {
                var order = new Order
                {
                    Id = Guid.CreateVersion7(),
                    AccountId = $"{accountPrefix}{j % accounts}",
                    Amount = 10 + j,
                    Number = j / accounts + 1,
                };
                db.Orders.Add(order);
                var @event = new OrderPlacedIntegrationEvent(order.Id, order.AccountId, order.Amount, order.Number);
                db.AddIntegrationEvent(@event, partitionKey: order.AccountId);
                placed.Add(@event);
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return placed;
    }
}
