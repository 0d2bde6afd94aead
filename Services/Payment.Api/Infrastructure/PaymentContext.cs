using Microsoft.EntityFrameworkCore;
using Payment.Api.Model;
using Shop.EventBus;

namespace Payment.Api.Infrastructure;

public sealed class PaymentContext(DbContextOptions<PaymentContext> options) : DbContext(options)
{
    public const int MaxReasonLength = 500;

    public DbSet<PaymentRecord> Payments => Set<PaymentRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<PaymentRecord>(payment =>
        {
            payment.ToTable("Payments");
            payment.Property(p => p.BuyerId).HasMaxLength(200);
            payment.Property(p => p.Kind).HasConversion<string>().HasMaxLength(16);
            payment.Property(p => p.Status).HasConversion<string>().HasMaxLength(16);
            payment.Property(p => p.Amount).HasPrecision(18, 2);
            payment.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
            payment.Property(p => p.IdempotencyKey).HasMaxLength(100);
            payment.Property(p => p.GatewayReference).HasMaxLength(100);
            payment.Property(p => p.FailureReason).HasMaxLength(MaxReasonLength);
            payment.Property(p => p.LastError).HasMaxLength(MaxReasonLength);
            payment.Property(p => p.TraceParent).HasMaxLength(55);
            // At most one charge and one refund per order, whatever is redelivered, replayed or raced.
            payment.HasIndex(p => new { p.OrderId, p.Kind }).IsUnique();
            payment.HasIndex(p => p.IdempotencyKey).IsUnique();
            // The processor's query walks only what is still to be sent.
            payment.HasIndex(p => p.NextAttemptAt).HasFilter("\"Status\" = 'Pending'");
        });

        modelBuilder.AddEventBusTables();
    }
}
