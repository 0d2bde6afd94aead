using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Products.Api.Catalog;
using Products.Api.Model;
using Shop.EventBus;

namespace Products.Api.Infrastructure;

/// <summary>
/// The Development catalog (<c>Seed/catalog.json</c>: brands, categories and about a hundred products), so a fresh
/// system has something to show. It runs once per database, recorded in <see cref="SeedHistory"/>, so it never
/// brings back what an admin changed or deleted; products already there by name are left alone. Each seeded product
/// is announced with <c>ProductChanged</c> like any other, so other services' read models know it too.
/// </summary>
internal static class ProductsSeed
{
    public const string CatalogSeedId = "development-catalog-v1";

    private const string ResourceName = "Products.Api.catalog.json";

    public static async Task SeedAsync(ProductsContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!services.GetRequiredService<IHostEnvironment>().IsDevelopment()
            || await context.SeedHistory.AnyAsync(s => s.Id == CatalogSeedId, cancellationToken))
        {
            return;
        }

        var catalog = Load();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();

        var brands = await context.Brands.ToDictionaryAsync(b => b.Name, cancellationToken);
        foreach (var name in catalog.Brands.Where(name => !brands.ContainsKey(name)))
        {
            brands[name] = context.Brands.Add(new Brand { Name = name }).Entity;
        }

        var categories = await context.Categories.ToDictionaryAsync(c => c.Name, cancellationToken);
        foreach (var name in catalog.Categories.Where(name => !categories.ContainsKey(name)))
        {
            categories[name] = context.Categories.Add(new Category { Name = name }).Entity;
        }

        var existing = await context.Products.Select(p => p.Name).ToHashSetAsync(cancellationToken);
        var added = new List<Product>();
        for (var i = 0; i < catalog.Products.Count; i++)
        {
            var item = catalog.Products[i];
            if (existing.Contains(item.Name))
            {
                continue;
            }

            // Spread over the last hundred days, not in file order, so "newest" mixes categories.
            var created = now.AddHours(-(i * 37 % catalog.Products.Count) * 24 - i);
            var product = new Product
            {
                Name = item.Name,
                Description = item.Description,
                Price = item.Price,
                AvailableStock = item.Stock,
                CreatedAt = created,
                UpdatedAt = created,
            };
            product.SetBrandAndCategory(brands[item.Brand], categories[item.Category]);
            added.Add(context.Products.Add(product).Entity);
        }

        await context.SaveChangesAsync(cancellationToken);

        foreach (var product in added)
        {
            context.AddIntegrationEvent(ProductEvents.Changed(product), ProductEvents.Key(product));
        }

        context.SeedHistory.Add(new SeedHistory { Id = CatalogSeedId, AppliedAt = now });
        await context.SaveChangesAsync(cancellationToken);
    }

    public static SeedCatalog Load()
    {
        using var stream = typeof(ProductsSeed).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        return JsonSerializer.Deserialize<SeedCatalog>(stream, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException($"{ResourceName} is empty.");
    }
}

internal sealed record SeedCatalog(IReadOnlyList<string> Brands, IReadOnlyList<string> Categories, IReadOnlyList<SeedProduct> Products);

internal sealed record SeedProduct(string Name, string Brand, string Category, decimal Price, int Stock, string Description);
