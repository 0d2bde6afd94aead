using System.Data.Common;
using LedgerService;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Update;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shop.Data;

namespace Shop.EventBus.Tests;

/// <summary>
/// Saves that only insert run without an explicit transaction (<see cref="InsertOnlyBatches"/>), on a real server:
/// still all-or-nothing, while saves that update keep their transaction.
/// </summary>
[Collection(BusCollection.Name)]
public sealed class InsertOnlyBatchTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task A_save_of_inserts_alone_commits_without_an_explicit_transaction()
    {
        var (connectionString, transactions) = await CreateAsync();
        await using (var db = Open(connectionString, transactions))
        {
            db.Accounts.Add(new Account { Id = "a" });
            db.Orders.AddRange(NewOrder("a", 1), NewOrder("a", 2));
            await db.SaveChangesAsync();
        }

        Assert.Equal(0, transactions.Started);
        await using var check = Ledger.OpenContext(connectionString);
        Assert.Equal(2, await check.Orders.CountAsync(o => o.AccountId == "a"));
    }

    [Fact]
    public async Task A_save_of_inserts_that_fails_midway_stores_none_of_them()
    {
        var (connectionString, transactions) = await CreateAsync();
        await using (var db = Open(connectionString, transactions))
        {
            db.Accounts.Add(new Account { Id = "taken" });
            await db.SaveChangesAsync();
        }

        await using (var db = Open(connectionString, transactions))
        {
            // The duplicate sits between "b" and "z" by key and by the order they were added, so whichever order
            // EF Core writes them in, one of them is inserted before the duplicate fails.
            db.Accounts.AddRange(new Account { Id = "b" }, new Account { Id = "taken" }, new Account { Id = "z" });
            db.Orders.AddRange(NewOrder("b", 1), NewOrder("b", 2));
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(0, transactions.Started);
        await using var check = Ledger.OpenContext(connectionString);
        Assert.Equal(0, await check.Orders.CountAsync(o => o.AccountId == "b"));
        Assert.False(await check.Accounts.AnyAsync(a => a.Id == "b" || a.Id == "z"));
    }

    [Fact]
    public async Task A_save_that_updates_keeps_its_transaction_and_rolls_back_on_a_lost_row()
    {
        var (connectionString, transactions) = await CreateAsync();
        await using (var db = Open(connectionString, transactions))
        {
            db.Accounts.Add(new Account { Id = "c", Balance = 10 });
            await db.SaveChangesAsync();
        }

        await using (var db = Open(connectionString, transactions))
        {
            var account = await db.Accounts.SingleAsync(a => a.Id == "c");
            await using (var other = Ledger.OpenContext(connectionString))
            {
                // Gone before the save: EF Core finds its update affected no row only after the batch ran.
                await other.Accounts.Where(a => a.Id == "c").ExecuteDeleteAsync();
            }

            account.Balance = 20;
            db.Orders.Add(NewOrder("c", 1));
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(1, transactions.Started);
        await using var check = Ledger.OpenContext(connectionString);
        Assert.Equal(0, await check.Orders.CountAsync(o => o.AccountId == "c"));
    }

    [Fact]
    public void Every_context_registered_with_AddNpgsqlDbContext_uses_it()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{LedgerExtensions.DatabaseConnectionName}"] = "Host=127.0.0.1;Port=1;Database=ledger",
        });
        builder.AddNpgsqlDbContext<LedgerContext>(LedgerExtensions.DatabaseConnectionName);
        using var host = builder.Build();
        using var scope = host.Services.CreateScope();

        var db = scope.ServiceProvider.GetRequiredService<LedgerContext>();

        Assert.IsType<InsertOnlyBatchFactory>(db.GetService<IModificationCommandBatchFactory>());
    }

    private async Task<(string ConnectionString, TransactionCounter Transactions)> CreateAsync() =>
        (await infrastructure.CreateDatabaseAsync(Eventually.Timeout()), new TransactionCounter());

    private static LedgerContext Open(string connectionString, TransactionCounter transactions) =>
        new(new DbContextOptionsBuilder<LedgerContext>()
            .UseNpgsql(connectionString)
            .WithoutTransactionForInsertOnlyBatches()
            .AddInterceptors(transactions)
            .Options);

    private static Order NewOrder(string accountId, int number) =>
        new() { Id = Guid.NewGuid(), AccountId = accountId, Amount = 1, Number = number };

    /// <summary>Counts the transactions EF Core begins (its own around a save, and any other).</summary>
    private sealed class TransactionCounter : DbTransactionInterceptor
    {
        private int _started;

        public int Started => _started;

        public override ValueTask<DbTransaction> TransactionStartedAsync(
            DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _started);
            return ValueTask.FromResult(result);
        }
    }
}
