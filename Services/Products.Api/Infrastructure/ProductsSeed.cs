using Microsoft.EntityFrameworkCore;
using Products.Api.Model;

namespace Products.Api.Infrastructure;

/// <summary>
/// A few products so a fresh Development system has something to show. Runs after the migrations on
/// every start and only fills an empty catalog, so it never overwrites what an admin changed.
/// </summary>
internal static class ProductsSeed
{
    public static async Task SeedAsync(ProductsContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!services.GetRequiredService<IHostEnvironment>().IsDevelopment()
            || await context.Products.AnyAsync(cancellationToken))
        {
            return;
        }

        context.Products.AddRange(
            new Product
            {
                Name = "Trailhead 40L Backpack",
                Description = "Lightweight hiking pack with a ventilated back panel and rain cover.",
                Price = 129.00m,
                Brand = "Northridge",
                Category = "Backpacks",
                PictureFileName = "trailhead-40l-backpack.webp",
                AvailableStock = 25,
            },
            new Product
            {
                Name = "Summit Down Jacket",
                Description = "800-fill down jacket that packs into its own pocket.",
                Price = 249.99m,
                Brand = "Northridge",
                Category = "Jackets",
                PictureFileName = "summit-down-jacket.webp",
                AvailableStock = 12,
            },
            new Product
            {
                Name = "Ridge Runner Trail Shoes",
                Description = "Grippy trail running shoes with a rock plate and quick laces.",
                Price = 139.50m,
                Brand = "Velo",
                Category = "Footwear",
                PictureFileName = "ridge-runner-trail-shoes.webp",
                AvailableStock = 40,
            },
            new Product
            {
                Name = "Alpine Trekking Poles",
                Description = "Carbon trekking poles with cork grips, 62 to 135 cm.",
                Price = 89.95m,
                Brand = "Cairn",
                Category = "Accessories",
                PictureFileName = "alpine-trekking-poles.webp",
                AvailableStock = 30,
            },
            new Product
            {
                Name = "Basecamp 2-Person Tent",
                Description = "Freestanding three-season tent with two doors and vestibules.",
                Price = 349.00m,
                Brand = "Cairn",
                Category = "Tents",
                PictureFileName = "basecamp-2-person-tent.webp",
                AvailableStock = 8,
            },
            new Product
            {
                Name = "Glacier Insulated Bottle",
                Description = "Stainless steel bottle that keeps drinks cold for 24 hours, 750 ml.",
                Price = 34.00m,
                Brand = "Velo",
                Category = "Accessories",
                PictureFileName = "glacier-insulated-bottle.webp",
                AvailableStock = 100,
            });

        await context.SaveChangesAsync(cancellationToken);
    }
}
