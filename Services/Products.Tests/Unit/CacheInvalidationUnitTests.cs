using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Products.Api.Apis;
using Products.Api.Caching;
using Products.Api.Infrastructure;
using Products.Api.Model;

namespace Products.Tests.Unit;

public class CacheInvalidationUnitTests
{
    [Fact]
    public void Invalidation_messages_round_trip()
    {
        var text = CacheInvalidations.Format("replica-a", "n1", ["catalog", "product:7"]);

        Assert.True(CacheInvalidations.TryParse(text, out var sender, out var nonce, out var tags));
        Assert.Equal(("replica-a", "n1"), (sender, nonce));
        Assert.Equal(["catalog", "product:7"], tags);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("only-a-sender")]
    [InlineData("\nnonce\ncatalog")]
    public void Malformed_invalidation_messages_are_refused(string? text) =>
        Assert.False(CacheInvalidations.TryParse(text, out _, out _, out _));

    [Fact]
    public void A_stock_change_invalidates_only_its_product()
    {
        using var db = NewContext();
        var product = TrackedProduct(db, id: 4);

        product.AvailableStock -= 1;
        product.ReservedStock += 1;
        product.UpdatedAt = product.UpdatedAt.AddMinutes(1);

        Assert.Equal(["product:4"], Tags(db));
    }

    [Fact]
    public void A_sale_of_reserved_units_changes_nothing_cached_and_invalidates_nothing()
    {
        using var db = NewContext();
        var product = TrackedProduct(db, id: 4);

        product.ReservedStock -= 1;
        product.UpdatedAt = product.UpdatedAt.AddMinutes(1);

        Assert.Empty(Tags(db));
    }

    [Fact]
    public void A_price_change_invalidates_the_catalog_and_the_product()
    {
        using var db = NewContext();
        var product = TrackedProduct(db, id: 4);

        product.Price += 1;

        Assert.Equal(["catalog", "product:4"], Tags(db));
    }

    [Fact]
    public void Deleting_a_product_is_a_catalog_change()
    {
        using var db = NewContext();
        var product = TrackedProduct(db, id: 9);

        product.IsDeleted = true;

        Assert.Equal(["catalog", "product:9"], Tags(db));
    }

    [Fact]
    public void Unchanged_entities_and_reservations_invalidate_nothing()
    {
        using var db = NewContext();
        TrackedProduct(db, id: 1);
        db.StockReservations.Add(new StockReservation { OrderId = Guid.NewGuid(), Status = ReservationStatus.Rejected });

        Assert.Empty(Tags(db));
    }

    [Fact]
    public async Task Invalid_listings_are_refused_before_the_cache_or_database_is_asked()
    {
        // No cache, no database: the request must be answered from the query alone.
        var result = await CatalogApi.GetItems(new CatalogQuery(PageSize: 0, MinPrice: -1), catalog: null!, new DefaultHttpContext(), CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal(["minPrice", "pageSize"], problem.ProblemDetails.Errors.Keys.Order());
    }

    [Fact]
    public async Task Items_by_id_without_ids_is_a_validation_problem_naming_ids()
    {
        var result = await CatalogApi.GetItemsByIds([], db: null!, CancellationToken.None);

        Assert.Equal(["ids"], Assert.IsType<ValidationProblem>(result.Result).ProblemDetails.Errors.Keys);
    }

    private static string[] Tags(ProductsContext db) =>
        [.. CatalogChanges.Tags(CatalogChanges.Capture(db.ChangeTracker)).Distinct().Order()];

    private static ProductsContext NewContext() =>
        new(new DbContextOptionsBuilder<ProductsContext>().UseNpgsql("Host=unused.invalid").Options);

    private static Product TrackedProduct(ProductsContext db, int id)
    {
        var brand = new Brand { Id = 1, Name = "Cairn" };
        var category = new Category { Id = 1, Name = "Tents" };
        var product = new Product { Id = id, Name = "Tent", Description = "", Price = 10m, AvailableStock = 5 };
        product.SetBrandAndCategory(brand, category);
        db.Attach(product);
        return product;
    }
}
