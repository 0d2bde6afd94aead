using Microsoft.EntityFrameworkCore;
using Products.Api.Model;

namespace Products.Api.Infrastructure;

public sealed class ProductsContext(DbContextOptions<ProductsContext> options) : DbContext(options)
{
    public DbSet<Product> Products => Set<Product>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Product>(product =>
        {
            product.Property(p => p.Name).HasMaxLength(100);
            product.Property(p => p.Description).HasMaxLength(2000);
            product.Property(p => p.Price).HasPrecision(18, 2);
            product.Property(p => p.Brand).HasMaxLength(100);
            product.Property(p => p.Category).HasMaxLength(100);
            product.Property(p => p.PictureFileName).HasMaxLength(200);
            product.HasIndex(p => p.Name);
        });
    }
}
