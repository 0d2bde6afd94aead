using Microsoft.EntityFrameworkCore;
using Payment.Api.Model;

namespace Payment.Api.Infrastructure;

public sealed class PaymentContext(DbContextOptions<PaymentContext> options) : DbContext(options)
{
    public DbSet<PaymentRecord> Payments => Set<PaymentRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<PaymentRecord>(payment =>
        {
            payment.ToTable("Payments");
            payment.Property(p => p.Kind).HasConversion<string>().HasMaxLength(16);
            payment.Property(p => p.Status).HasConversion<string>().HasMaxLength(16);
            payment.Property(p => p.Amount).HasPrecision(18, 2);
            payment.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
            payment.Property(p => p.GatewayReference).HasMaxLength(100);
            payment.HasIndex(p => p.OrderId);
        });
    }
}
