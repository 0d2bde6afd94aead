using LedgerService;
using Microsoft.EntityFrameworkCore;

namespace Shop.EventBus.Tests;

/// <summary>Reading a ledger database directly, as the tests check what the services did.</summary>
internal static class Ledger
{
    public static LedgerContext OpenContext(string connectionString) =>
        new(new DbContextOptionsBuilder<LedgerContext>().UseNpgsql(connectionString).Options);

    public static async Task<T> QueryAsync<T>(string connectionString, Func<LedgerContext, Task<T>> query)
    {
        await using var db = OpenContext(connectionString);
        return await query(db);
    }

    public static Task<int> PendingAsync(string connectionString) =>
        QueryAsync(connectionString, db => db.Set<OutboxMessage>().CountAsync(m => m.SentAt == null));

    public static Task<int> ReceiptCountAsync(string connectionString, string handler = nameof(OrderPlacedHandler)) =>
        QueryAsync(connectionString, db => db.Receipts.CountAsync(r => r.Handler == handler));

    public static Task<List<Receipt>> ReceiptsAsync(string connectionString, string handler = nameof(OrderPlacedHandler)) =>
        QueryAsync(connectionString, db => db.Receipts.AsNoTracking().Where(r => r.Handler == handler).OrderBy(r => r.Id).ToListAsync());
}
