using Microsoft.EntityFrameworkCore;
using Products.Api.Model;
using Shop.EventBus;

namespace Products.Api.Infrastructure;

public sealed class ProductsContext(DbContextOptions<ProductsContext> options) : DbContext(options)
{
    /// <summary>The text search configuration of <see cref="Product.SearchVector"/>'s stemmed words; queries must use the same.</summary>
    public const string SearchConfiguration = "english";

    /// <summary>
    /// The text search configuration (made by the <c>SearchVectorUnstemmed</c> migration) of <see cref="Product.SearchVector"/>'s
    /// words as written, lower-cased, without English stop words. A search is queried as the shopper types, and the
    /// stem of an unfinished word is rarely a prefix of the finished word's stem ("hiki" stays "hiki", "hiking" is
    /// stored as "hike"): the results vanished mid-word. The word as written always starts with what was typed so far.
    /// Stop words stay out so that one typed last still has to start a longer word ("camp for" finds the fork, not
    /// every camping product saying "for").
    /// </summary>
    public const string UnstemmedConfiguration = "english_unstemmed";

    /// <summary>
    /// The collation <see cref="Product.SearchVector"/> lower-cases the text under before the text search reads it.
    /// Text search lower-cases under the database's character type, which may be C (initdb --no-locale): ASCII letters
    /// alone, so "Палатка" and "Été" were kept with their capitals while a search, lower-cased in .NET, has none. ICU's
    /// root locale lower-cases every script, the same whatever locale the database was created with.
    /// </summary>
    public const string LowerCaseCollation = "und-x-icu";

    public DbSet<Product> Products => Set<Product>();

    public DbSet<Brand> Brands => Set<Brand>();

    public DbSet<Category> Categories => Set<Category>();

    public DbSet<StockReservation> StockReservations => Set<StockReservation>();

    public DbSet<SeedHistory> SeedHistory => Set<SeedHistory>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Brand>(brand =>
        {
            brand.Property(b => b.Name).HasMaxLength(Brand.NameMaxLength);
            brand.HasIndex(b => b.Name).IsUnique();
        });

        modelBuilder.Entity<Category>(category =>
        {
            category.Property(c => c.Name).HasMaxLength(Category.NameMaxLength);
            category.HasIndex(c => c.Name).IsUnique();
        });

        modelBuilder.Entity<Product>(product =>
        {
            product.ToTable(table =>
            {
                table.HasCheckConstraint("CK_Products_Stock", "\"AvailableStock\" >= 0 AND \"ReservedStock\" >= 0");
                // On hand (available and held for orders) within the limit the API enforces, so releasing a
                // reservation can never overflow; summed as bigint so the check itself cannot.
                table.HasCheckConstraint(
                    "CK_Products_StockLimit", $"\"AvailableStock\"::bigint + \"ReservedStock\" <= {ProductValidation.MaxStock}");
            });
            product.Property(p => p.Name).HasMaxLength(Product.NameMaxLength);
            product.Property(p => p.Description).HasMaxLength(Product.DescriptionMaxLength);
            product.Property(p => p.Price).HasPrecision(18, 2);
            product.Property(p => p.SearchTerms).HasMaxLength(Brand.NameMaxLength + Category.NameMaxLength + 1);
            product.HasOne(p => p.Brand).WithMany().HasForeignKey(p => p.BrandId).OnDelete(DeleteBehavior.Restrict);
            product.HasOne(p => p.Category).WithMany().HasForeignKey(p => p.CategoryId).OnDelete(DeleteBehavior.Restrict);
            product.HasIndex(p => p.Name);
            product.HasIndex(p => p.Price);
            product.HasIndex(p => p.CreatedAt);

            // Weighted so that relevance ranks a match in the name above one in the brand or category, and those
            // above one in the description. Stored and generated: it can never disagree with the columns.
            product.Property(p => p.SearchVector)
                .HasComputedColumnSql(
                    $"setweight({Lexemes("Name")}, 'A') || " +
                    $"setweight({Lexemes("SearchTerms")}, 'B') || " +
                    $"setweight({Lexemes("Description")}, 'C')",
                    stored: true);
            product.HasIndex(p => p.SearchVector).HasMethod("GIN");
        });

        modelBuilder.Entity<StockReservation>(reservation =>
        {
            reservation.HasKey(r => r.OrderId);
            reservation.Property(r => r.Status).HasConversion<string>().HasMaxLength(20);
            reservation.HasMany(r => r.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<StockReservationLine>(line =>
        {
            line.ToTable("StockReservationLines");
            line.HasKey(l => new { l.OrderId, l.ProductId });
            line.HasOne<Product>().WithMany().HasForeignKey(l => l.ProductId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<SeedHistory>(seed =>
        {
            seed.Property(s => s.Id).HasMaxLength(100);
        });

        modelBuilder.AddEventBusTables();
    }

    /// <summary>A column's words, stemmed and as written.</summary>
    private static string Lexemes(string column)
    {
        var text = $"lower(coalesce(\"{column}\", '') COLLATE \"{LowerCaseCollation}\")";
        return $"to_tsvector('{SearchConfiguration}', {text}) || to_tsvector('{UnstemmedConfiguration}', {text})";
    }
}
