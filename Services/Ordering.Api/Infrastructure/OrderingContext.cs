using Microsoft.EntityFrameworkCore;
using Ordering.Api.Model;
using Shop.EventBus;

namespace Ordering.Api.Infrastructure;

public sealed class OrderingContext(DbContextOptions<OrderingContext> options) : DbContext(options)
{
    /// <summary>Longest <c>Idempotency-Key</c> accepted (the header's draft standard leaves it to the server).</summary>
    public const int MaxIdempotencyKeyLength = 100;

    public const int MaxReasonLength = 1000;

    /// <summary>The PostgreSQL channel an insert into the status history notifies, after its transaction commits.</summary>
    public const string StatusChannel = "order_status_changed";

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<OrderStatusChange> StatusHistory => Set<OrderStatusChange>();

    public DbSet<CatalogItem> CatalogItems => Set<CatalogItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.Property(o => o.BuyerId).HasMaxLength(200);
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(32);
            order.Property(o => o.Total).HasPrecision(18, 2);
            order.Property(o => o.Currency).HasMaxLength(3).IsFixedLength();
            order.Property(o => o.IdempotencyKey).HasMaxLength(MaxIdempotencyKeyLength);
            order.Property(o => o.RequestHash).HasMaxLength(64);
            order.Property(o => o.CancellationReason).HasMaxLength(MaxReasonLength);
            order.Property(o => o.Version).IsRowVersion();
            order.HasIndex(o => new { o.BuyerId, o.CreatedAt });
            // The same key from the same buyer is one order, even when two requests race.
            order.HasIndex(o => new { o.BuyerId, o.IdempotencyKey }).IsUnique();
            order.HasMany(o => o.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
            order.HasMany(o => o.History).WithOne().HasForeignKey(h => h.OrderId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<OrderLine>(line =>
        {
            line.ToTable("OrderLines");
            line.Property(l => l.ProductName).HasMaxLength(100);
            line.Property(l => l.UnitPrice).HasPrecision(18, 2);
        });

        modelBuilder.Entity<OrderStatusChange>(change =>
        {
            change.ToTable("OrderStatusHistory");
            change.Property(c => c.Status).HasConversion<string>().HasMaxLength(32);
            change.Property(c => c.Reason).HasMaxLength(MaxReasonLength);
            // bigint like the stream's event ids: an xid8 counts from 0 with its epoch, nowhere near 2^63.
            change.Property(c => c.TransactionId).HasDefaultValueSql("pg_current_xact_id()::text::bigint");
            change.HasIndex(c => new { c.OrderId, c.Id });
        });

        modelBuilder.Entity<CatalogItem>(item =>
        {
            item.ToTable("CatalogItems");
            item.HasKey(i => i.ProductId);
            item.Property(i => i.ProductId).ValueGeneratedNever();
            item.Property(i => i.Name).HasMaxLength(200);
            item.Property(i => i.Brand).HasMaxLength(100);
            item.Property(i => i.PictureUrl).HasMaxLength(500);
            item.Property(i => i.Price).HasPrecision(18, 2);
        });

        modelBuilder.AddEventBusTables();
    }
}
