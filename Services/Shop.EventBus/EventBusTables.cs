using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Shop.EventBus;

/// <summary>
/// The bus's tables as the service's model maps them (schema included), quoted for SQL, plus the names derived
/// from the outbox table: the LISTEN/NOTIFY channel and the advisory lock that elects the relay.
/// </summary>
internal sealed record EventBusTables(string Outbox, string Inbox, string DeadLetters, string NotifyChannel, long RelayLockKey)
{
    public static EventBusTables From(DbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = context.Model;
        var outbox = Find<OutboxMessage>(model, context);
        var schema = outbox.GetSchema();
        var qualified = schema is null ? outbox.GetTableName()! : $"{schema}.{outbox.GetTableName()}";
        // NOTIFY channels and advisory locks are per database; two outboxes in one database (different schemas)
        // must still not share them.
        var channel = "shop_event_bus_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(qualified)))[..16];
        var lockKey = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("Shop.EventBus.Relay:" + qualified)));
        return new EventBusTables(
            Quote(outbox),
            Quote(Find<InboxMessage>(model, context)),
            Quote(Find<DeadLetter>(model, context)),
            channel,
            lockKey);
    }

    private static IEntityType Find<T>(IModel model, DbContext context) =>
        model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException(
            $"{context.GetType().Name}'s model has no {typeof(T).Name}: call modelBuilder.AddEventBusTables() in its OnModelCreating " +
            "and add a migration, so the event bus's tables exist.");

    private static string Quote(IEntityType entity)
    {
        var table = $"\"{entity.GetTableName()}\"";
        return entity.GetSchema() is { } schema ? $"\"{schema}\".{table}" : table;
    }
}
