using Microsoft.EntityFrameworkCore;
using Ordering.Api.Model;

namespace Ordering.Api.Infrastructure;

public sealed class OrderingContext(DbContextOptions<OrderingContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.Property(o => o.BuyerId).HasMaxLength(200);
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(32);
            order.Property(o => o.Total).HasPrecision(18, 2);
            order.HasIndex(o => new { o.BuyerId, o.CreatedAt });
            order.HasMany(o => o.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<OrderLine>(line =>
        {
            line.ToTable("OrderLines");
            line.Property(l => l.ProductName).HasMaxLength(100);
            line.Property(l => l.UnitPrice).HasPrecision(18, 2);
        });
    }
}
