using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Shop.EventBus;

public static class OutboxDbContextExtensions
{
    /// <summary>
    /// Adds <paramref name="event"/> to the context's outbox. It is written by the next <c>SaveChangesAsync</c>, in the
    /// same transaction as the state change it describes, and published after the commit; nothing is published if the
    /// transaction rolls back. Events with the same <paramref name="partitionKey"/> (e.g. the order id) are
    /// published in the order they were committed and consumed in that order.
    /// </summary>
    /// <param name="partitionKey">The Kafka key; defaults to the event id (no ordering with other events).</param>
    public static OutboxMessage AddIntegrationEvent(this DbContext context, IntegrationEvent @event, string? partitionKey = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(@event);

        if (context.Model.FindEntityType(typeof(OutboxMessage)) is null)
        {
            throw new InvalidOperationException(
                $"{context.GetType().Name}'s model has no outbox: call modelBuilder.AddEventBusTables() in its OnModelCreating and add a migration.");
        }

        var writer = ApplicationServices(context).GetService<OutboxWriter>() ?? throw new InvalidOperationException(
            $"The event bus is not registered: call builder.AddEventBus<{context.GetType().Name}>(\"kafka\") at start-up.");

        var message = writer.Create(@event, partitionKey);
        context.Set<OutboxMessage>().Add(message);
        PendingOutbox.Mark(context);
        return message;
    }

    private static IServiceProvider ApplicationServices(DbContext context) =>
        context.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider
        ?? throw new InvalidOperationException(
            $"{context.GetType().Name} was not created by dependency injection: resolve it from the service provider " +
            "(AddNpgsqlDbContext) so it can reach the event bus.");
}

/// <summary>
/// Contexts that hold outbox rows not yet committed, so the commit interceptor wakes the relay only for commits
/// that carry events. Weak keys: a context that is disposed is forgotten.
/// </summary>
internal static class PendingOutbox
{
    private static readonly ConditionalWeakTable<DbContext, object> Contexts = [];

    public static void Mark(DbContext context) => Contexts.AddOrUpdate(context, Contexts);

    public static bool TryClear(DbContext context) => Contexts.Remove(context);
}
