using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Shop.EventBus;

namespace LedgerService;

public sealed class Order
{
    public Guid Id { get; init; }

    public required string AccountId { get; init; }

    public decimal Amount { get; init; }

    /// <summary>Position of the order among its account's orders, to check they are handled in order.</summary>
    public int Number { get; init; }
}

public sealed class Account
{
    public required string Id { get; init; }

    public decimal Balance { get; set; }

    public int Deposits { get; set; }

    public int LastNumber { get; set; }
}

/// <summary>One row per handled event and handler: a second effect of one event shows as a second row.</summary>
public sealed class Receipt
{
    public long Id { get; private set; }

    public Guid EventId { get; init; }

    public required string Handler { get; init; }

    public required string Consumer { get; init; }

    public required string AccountId { get; init; }

    public int Number { get; init; }

    /// <summary>The account's previous order number when this one was handled: Number - 1 when in order.</summary>
    public int PreviousNumber { get; init; }
}

public sealed class LedgerContext(DbContextOptions<LedgerContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<Receipt> Receipts => Set<Receipt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>().Property(o => o.AccountId).HasMaxLength(100);
        modelBuilder.Entity<Account>().Property(a => a.Id).HasMaxLength(100);
        modelBuilder.Entity<Receipt>(receipt =>
        {
            receipt.Property(r => r.Handler).HasMaxLength(100);
            receipt.Property(r => r.Consumer).HasMaxLength(100);
            receipt.Property(r => r.AccountId).HasMaxLength(100);
            receipt.HasIndex(r => r.EventId);
        });

        modelBuilder.AddEventBusTables();
    }
}

/// <summary>For <c>dotnet ef migrations add</c>: a model without a database.</summary>
public sealed class LedgerContextFactory : IDesignTimeDbContextFactory<LedgerContext>
{
    public LedgerContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<LedgerContext>().UseNpgsql("Host=localhost;Database=ledger").Options);
}
