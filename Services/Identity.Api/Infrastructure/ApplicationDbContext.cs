using Identity.Api.Model;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Identity.Api.Infrastructure;

public sealed class ApplicationDbContext(DbContextOptions<ApplicationDbContext> options)
    : IdentityDbContext<ApplicationUser>(options), IDataProtectionKeyContext
{
    /// <summary>The key ring of ASP.NET Core Data Protection: sign-in cookies survive restarts and work across replicas.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    public DbSet<UnknownAddressFailure> UnknownAddressFailures => Set<UnknownAddressFailure>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.UseOpenIddict();

        var user = builder.Entity<ApplicationUser>();
        user.Property(u => u.Name).HasMaxLength(ApplicationUser.MaxNameLength);
        user.Property(u => u.ShippingStreet).HasMaxLength(ApplicationUser.MaxAddressFieldLength);
        user.Property(u => u.ShippingCity).HasMaxLength(ApplicationUser.MaxAddressFieldLength);
        user.Property(u => u.ShippingPostalCode).HasMaxLength(ApplicationUser.MaxAddressFieldLength);
        user.Property(u => u.ShippingCountry).HasMaxLength(ApplicationUser.MaxAddressFieldLength);

        var key = builder.Entity<SigningKey>();
        key.Property(k => k.Id).HasMaxLength(64);
        key.Property(k => k.Use).HasConversion<string>().HasMaxLength(16);
        key.HasIndex(k => new { k.Use, k.CreatedAt });

        var failure = builder.Entity<UnknownAddressFailure>();
        failure.HasKey(f => f.AddressHash);
        failure.Property(f => f.AddressHash).HasMaxLength(UnknownAddressFailure.AddressHashLength);
        // Forgotten rows are deleted by age.
        failure.HasIndex(f => f.LastFailureAt);
    }
}
