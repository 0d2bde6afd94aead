using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Products.Api.Catalog;
using Products.Api.Infrastructure;
using Products.Api.Inventory;
using Products.Api.Model;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Products.Api.Apis;

/// <summary>
/// Catalog and stock changes, for admins. Each change and the events that announce it are written in one transaction
/// (outbox); the cache is invalidated once it commits, before the response, so the next read sees it.
/// </summary>
public static class CatalogAdminApi
{
    public static IEndpointRouteBuilder MapCatalogAdminApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/products")
            .WithTags("Catalog administration")
            .RequireAuthorization(ShopPolicies.Admin);

        api.MapPost("/items", CreateItem)
            .WithName("CreateItem")
            .WithSummary("Create a product")
            .WithDescription("Publishes ProductChanged.");

        api.MapPut("/items/{id:int}", UpdateItem)
            .WithName("UpdateItem")
            .WithSummary("Change a product's name, description, price, brand or category")
            .WithDescription("Publishes ProductChanged, and ProductPriceChanged when the price changed.");

        api.MapDelete("/items/{id:int}", DeleteItem)
            .WithName("DeleteItem")
            .WithSummary("Delete a product")
            .WithDescription("It leaves the catalog and can no longer be ordered; reservations already made still complete. Publishes ProductChanged with deleted = true.");

        api.MapGet("/items/{id:int}/stock", GetStock)
            .WithName("GetStock")
            .WithSummary("Get a product's available, reserved and on-hand stock");

        api.MapPut("/items/{id:int}/stock", ChangeStock)
            .WithName("ChangeStock")
            .WithSummary("Set a product's available stock, or adjust it")
            .WithDescription(
                "Body: {\"availableStock\": n} to set the count, or {\"adjustBy\": d} to add (or, negative, take away) units " +
                "atomically beside orders reserving at the same time. 409 if the stock would go below zero, or on hand (available " +
                $"plus reserved) above {ProductValidation.MaxStock}. Publishes ProductChanged.");

        api.MapGet("/reservations/{orderId:guid}", GetReservation)
            .WithName("GetReservation")
            .WithSummary("Get what inventory did for an order");

        return app;
    }

    public static async Task<Results<Created<ProductItem>, ValidationProblem>> CreateItem(
        CreateProductRequest request,
        ProductsContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        var errors = ProductValidation.ValidateDetails(request.Name, request.Description, request.Price, request.BrandId, request.CategoryId);
        foreach (var (field, messages) in ProductValidation.ValidateInitialStock(request.AvailableStock))
        {
            errors[field] = messages;
        }

        var (brand, category) = await FindBrandAndCategoryAsync(db, request.BrandId, request.CategoryId, errors, cancellationToken);
        if (errors.Count > 0 || brand is null || category is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = timeProvider.GetUtcNow();
        var product = new Product
        {
            Name = request.Name!.Trim(),
            Description = request.Description?.Trim() ?? "",
            Price = ProductValidation.AsStoredPrice(request.Price!.Value),
            AvailableStock = request.AvailableStock ?? 0,
            CreatedAt = now,
            UpdatedAt = now,
        };
        product.SetBrandAndCategory(brand, category);

        // The event needs the id the insert generates: two saves, one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Products.Add(product);
        await db.SaveChangesAsync(cancellationToken);
        db.AddIntegrationEvent(ProductEvents.Changed(product), ProductEvents.Key(product));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        return TypedResults.Created(ProductLocation(product.Id), ToItem(product));
    }

    public static async Task<Results<Ok<ProductItem>, ValidationProblem, ProblemHttpResult>> UpdateItem(
        int id,
        UpdateProductRequest request,
        ProductsContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var product = await LockProductAsync(db, id, cancellationToken);
        if (product is null)
        {
            return CatalogApi.ProductNotFound(id);
        }

        var errors = ProductValidation.ValidateDetails(request.Name, request.Description, request.Price, request.BrandId, request.CategoryId);
        var (brand, category) = await FindBrandAndCategoryAsync(db, request.BrandId, request.CategoryId, errors, cancellationToken);
        if (errors.Count > 0 || brand is null || category is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var oldPrice = product.Price;
        product.Name = request.Name!.Trim();
        product.Description = request.Description?.Trim() ?? "";
        product.Price = ProductValidation.AsStoredPrice(request.Price!.Value);
        product.SetBrandAndCategory(brand, category);
        product.UpdatedAt = timeProvider.GetUtcNow();

        db.AddIntegrationEvent(ProductEvents.Changed(product), ProductEvents.Key(product));
        if (product.Price != oldPrice)
        {
            db.AddIntegrationEvent(new ProductPriceChangedIntegrationEvent(product.Id, oldPrice, product.Price), ProductEvents.Key(product));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(ToItem(product));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteItem(
        int id,
        ProductsContext db,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var product = await LockProductAsync(db, id, cancellationToken);
        if (product is null)
        {
            return CatalogApi.ProductNotFound(id);
        }

        product.IsDeleted = true;
        product.UpdatedAt = timeProvider.GetUtcNow();
        db.AddIntegrationEvent(ProductEvents.Changed(product), ProductEvents.Key(product));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<StockLevel>, ProblemHttpResult>> GetStock(int id, ProductsContext db, CancellationToken cancellationToken) =>
        await db.Products.AsNoTracking()
            .Where(p => p.Id == id && !p.IsDeleted)
            .Select(p => new StockLevel(p.Id, p.AvailableStock, p.ReservedStock, (long)p.AvailableStock + p.ReservedStock))
            .SingleOrDefaultAsync(cancellationToken) is { } stock
            ? TypedResults.Ok(stock)
            : CatalogApi.ProductNotFound(id);

    public static async Task<Results<Ok<StockLevel>, ValidationProblem, ProblemHttpResult>> ChangeStock(
        int id,
        StockChangeRequest request,
        ProductsContext db,
        InventoryService inventory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        var errors = ProductValidation.ValidateStockChange(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // The product's row stays locked from the read to the commit, so an adjustment never loses a reservation.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var outcome = await inventory.ChangeStockAsync(id, request.AvailableStock, request.AdjustBy, cancellationToken);
        if (outcome is null)
        {
            return CatalogApi.ProductNotFound(id);
        }

        var product = outcome.Product;
        switch (outcome.Result)
        {
            case StockChangeResult.BelowZero:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Not enough stock",
                    detail: $"adjustBy {request.AdjustBy} would take product {id} below zero: {product.AvailableStock} available.",
                    extensions: new Dictionary<string, object?> { ["availableStock"] = product.AvailableStock });

            case StockChangeResult.AboveMaxStock:
                var (field, value) = request.AdjustBy is { } adjustBy ? ("adjustBy", adjustBy) : ("availableStock", request.AvailableStock!.Value);
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Too much stock",
                    detail: $"{field} {value} would take product {id} above {ProductValidation.MaxStock} units on hand (available plus reserved): " +
                        $"{product.AvailableStock} available, {product.ReservedStock} reserved.",
                    extensions: new Dictionary<string, object?>
                    {
                        ["availableStock"] = product.AvailableStock,
                        ["reservedStock"] = product.ReservedStock,
                        ["maxOnHand"] = ProductValidation.MaxStock,
                    });
        }

        await db.Entry(product).Reference(p => p.Brand).LoadAsync(cancellationToken);
        await db.Entry(product).Reference(p => p.Category).LoadAsync(cancellationToken);
        db.AddIntegrationEvent(ProductEvents.Changed(product), ProductEvents.Key(product));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        return TypedResults.Ok(new StockLevel(product.Id, product.AvailableStock, product.ReservedStock, (long)product.AvailableStock + product.ReservedStock));
    }

    public static async Task<Results<Ok<ReservationView>, ProblemHttpResult>> GetReservation(
        Guid orderId,
        ProductsContext db,
        CancellationToken cancellationToken)
    {
        var reservation = await db.StockReservations.AsNoTracking()
            .Include(r => r.Lines)
            .SingleOrDefaultAsync(r => r.OrderId == orderId, cancellationToken);
        if (reservation is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No reservation",
                detail: $"Inventory has not acted on order {orderId}.");
        }

        return TypedResults.Ok(new ReservationView(
            reservation.OrderId,
            reservation.Status.ToString(),
            [.. reservation.Lines.OrderBy(l => l.ProductId).Select(l => new ReservationLineView(l.ProductId, l.Quantity))],
            reservation.CreatedAt,
            reservation.UpdatedAt));
    }

    private static string ProductLocation(int id) => $"/api/products/items/{id}";

    private static ProductItem ToItem(Product p) => new(
        p.Id, p.Name, p.Description, p.Price, p.Brand.Name, p.Category.Name, ProductItem.PictureFileNameOf(p.Id),
        p.AvailableStock, p.BrandId, p.CategoryId, ProductItem.PictureUrlOf(p.Id));

    /// <summary>
    /// The product an admin changes, its row locked until the caller's transaction ends. An update and a delete of one
    /// product then happen one after the other: one that waited sees the other's outcome (a product deleted meanwhile
    /// is not found, rather than updated and announced as on sale again after its deletion), and their events go out
    /// in the order of the changes.
    /// </summary>
    private static Task<Product?> LockProductAsync(ProductsContext db, int id, CancellationToken cancellationToken) =>
        db.Products.FromSql($"""SELECT * FROM "Products" WHERE "Id" = {id} FOR UPDATE""")
            .Include(p => p.Brand)
            .Include(p => p.Category)
            .SingleOrDefaultAsync(p => !p.IsDeleted, cancellationToken);

    /// <summary>Looks the brand and category up when their ids are valid so far; adds an error naming each one that does not exist.</summary>
    private static async Task<(Brand? Brand, Category? Category)> FindBrandAndCategoryAsync(
        ProductsContext db, int? brandId, int? categoryId, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        Brand? brand = null;
        Category? category = null;
        if (brandId is { } b && !errors.ContainsKey("brandId"))
        {
            brand = await db.Brands.FindAsync([b], cancellationToken);
            if (brand is null)
            {
                errors["brandId"] = [$"There is no brand {b}."];
            }
        }

        if (categoryId is { } c && !errors.ContainsKey("categoryId"))
        {
            category = await db.Categories.FindAsync([c], cancellationToken);
            if (category is null)
            {
                errors["categoryId"] = [$"There is no category {c}."];
            }
        }

        return (brand, category);
    }
}
