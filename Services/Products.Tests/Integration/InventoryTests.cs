using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Products.Api.Apis;
using Products.Api.Infrastructure;
using Products.Api.Inventory;
using Products.Api.Model;
using Shop.IntegrationEvents;

namespace Products.Tests.Integration;

/// <summary>Reservations against a real PostgreSQL, each in its own transaction as the event bus runs them.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class InventoryTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private ServiceProvider _services = null!;

    public async Task InitializeAsync() => _services = await infrastructure.CreateProductsDatabaseAsync(Timeout());

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task Fifty_concurrent_orders_for_the_last_ten_units_reserve_exactly_ten_and_never_deadlock()
    {
        var ct = Timeout();
        var tent = await AddProductAsync("Tent", 10, ct);
        var stove = await AddProductAsync("Stove", 10, ct);

        // Each order takes one of each, naming them in either order: locks taken in line order would deadlock.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var orders = Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            await start.Task;
            OrderLine[] lines = i % 2 == 0
                ? [new OrderLine(tent, 1, 100m), new OrderLine(stove, 1, 40m)]
                : [new OrderLine(stove, 1, 40m), new OrderLine(tent, 1, 100m)];
            return await InTransactionAsync(inventory => inventory.ReserveAsync(Guid.NewGuid(), lines, ct), ct);
        }, ct)).ToList();
        start.SetResult();
        var outcomes = await Task.WhenAll(orders);

        Assert.Equal(10, outcomes.Count(o => o is ReservationOutcome.Reserved));
        Assert.Equal(40, outcomes.Count(o => o is ReservationOutcome.Rejected));
        Assert.All(outcomes.OfType<ReservationOutcome.Rejected>(), rejected =>
            Assert.All(rejected.Lines, line => Assert.Equal(0, line.Available)));
        Assert.Equal((0, 10), await StockAsync(tent, ct));
        Assert.Equal((0, 10), await StockAsync(stove, ct));
        Assert.Equal(10, await CountReservationsAsync(ReservationStatus.Reserved, ct));
    }

    [Fact]
    public async Task An_order_is_reserved_whole_or_not_at_all()
    {
        var ct = Timeout();
        var plenty = await AddProductAsync("Plenty", 50, ct);
        var scarce = await AddProductAsync("Scarce", 1, ct);

        var outcome = await InTransactionAsync(inventory => inventory.ReserveAsync(
            Guid.NewGuid(), [new OrderLine(plenty, 5, 1m), new OrderLine(scarce, 2, 1m)], ct), ct);

        var rejected = Assert.IsType<ReservationOutcome.Rejected>(outcome);
        Assert.Equal([new RejectedLine(scarce, 2, 1)], rejected.Lines);
        Assert.Equal((50, 0), await StockAsync(plenty, ct));
        Assert.Equal((1, 0), await StockAsync(scarce, ct));
    }

    [Fact]
    public async Task A_confirmed_reservation_is_sold_once_and_cannot_be_released_after()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Boots", 8, ct);
        var laces = await AddProductAsync("Laces", 10, ct);
        var order = Guid.NewGuid();
        await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 3, 1m), new OrderLine(laces, 2, 1m)], ct), ct);
        Assert.Equal((5, 3), await StockAsync(product, ct));
        Assert.Equal((8, 2), await StockAsync(laces, ct));

        Assert.Equal(ReservationStatus.Sold, await InTransactionAsync(inventory => inventory.ConfirmAsync(order, ct), ct));
        Assert.Equal((5, 0), await StockAsync(product, ct));
        Assert.Equal((8, 0), await StockAsync(laces, ct));

        Assert.Equal(ReservationStatus.Sold, await InTransactionAsync(inventory => inventory.ConfirmAsync(order, ct), ct));
        Assert.Equal(ReservationStatus.Sold, await InTransactionAsync(inventory => inventory.ReleaseAsync(order, ct), ct));
        Assert.Equal((5, 0), await StockAsync(product, ct));
        Assert.Equal((8, 0), await StockAsync(laces, ct));
    }

    [Fact]
    public async Task Confirming_an_order_inventory_never_saw_changes_nothing()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Gaiters", 6, ct);

        Assert.Null(await InTransactionAsync(inventory => inventory.ConfirmAsync(Guid.NewGuid(), ct), ct));
        Assert.Equal((6, 0), await StockAsync(product, ct));
    }

    [Fact]
    public async Task A_released_reservation_returns_its_units_once_and_cannot_be_sold_after()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Poles", 4, ct);
        var order = Guid.NewGuid();
        await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 4, 1m)], ct), ct);
        Assert.Equal((0, 4), await StockAsync(product, ct));

        Assert.Equal(ReservationStatus.Released, await InTransactionAsync(inventory => inventory.ReleaseAsync(order, ct), ct));
        Assert.Equal((4, 0), await StockAsync(product, ct));

        Assert.Equal(ReservationStatus.Released, await InTransactionAsync(inventory => inventory.ReleaseAsync(order, ct), ct));
        Assert.Equal(ReservationStatus.Released, await InTransactionAsync(inventory => inventory.ConfirmAsync(order, ct), ct));
        Assert.Equal((4, 0), await StockAsync(product, ct));
    }

    [Fact]
    public async Task Submitting_an_order_again_reserves_nothing_more()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Lamp", 10, ct);
        var order = Guid.NewGuid();

        await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 2, 1m)], ct), ct);
        var again = await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 2, 1m)], ct), ct);

        Assert.Equal(new ReservationOutcome.AlreadyHandled(ReservationStatus.Reserved), again);
        Assert.Equal((8, 2), await StockAsync(product, ct));
    }

    [Fact]
    public async Task An_order_cancelled_before_it_was_submitted_reserves_nothing()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Mug", 10, ct);
        var order = Guid.NewGuid();

        Assert.Equal(ReservationStatus.Cancelled, await InTransactionAsync(inventory => inventory.ReleaseAsync(order, ct), ct));
        var outcome = await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 1, 1m)], ct), ct);

        Assert.Equal(new ReservationOutcome.AlreadyHandled(ReservationStatus.Cancelled), outcome);
        Assert.Equal((10, 0), await StockAsync(product, ct));
    }

    [Fact]
    public async Task Deleted_products_cannot_be_reserved()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Gone", 10, ct);
        await using (var scope = _services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ProductsContext>().Products
                .Where(p => p.Id == product).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsDeleted, true), ct);
        }

        var outcome = await InTransactionAsync(inventory => inventory.ReserveAsync(Guid.NewGuid(), [new OrderLine(product, 1, 1m)], ct), ct);

        Assert.Equal([new RejectedLine(product, 1, 0)], Assert.IsType<ReservationOutcome.Rejected>(outcome).Lines);
    }

    [Fact]
    public async Task Concurrent_stock_adjustments_and_reservations_lose_no_unit()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Socks", 0, ct);

        // Twenty deliveries of five units race twenty orders of two; whatever the interleaving, every unit is counted.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deliveries = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            await InTransactionAsync(inventory => inventory.ChangeStockAsync(product, null, 5, ct), ct);
        }, ct));
        var orders = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await InTransactionAsync(inventory => inventory.ReserveAsync(Guid.NewGuid(), [new OrderLine(product, 2, 1m)], ct), ct);
        }, ct)).ToList();
        start.SetResult();
        await Task.WhenAll(deliveries);
        var reserved = (await Task.WhenAll(orders)).Count(o => o is ReservationOutcome.Reserved);

        Assert.Equal((100 - (2 * reserved), 2 * reserved), await StockAsync(product, ct));
    }

    [Fact]
    public async Task Stock_cannot_be_raised_above_a_million_units_on_hand_and_a_release_still_fits()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Pegs", ProductValidation.MaxStock, ct);

        var doubled = await InTransactionAsync(inventory => inventory.ChangeStockAsync(product, null, ProductValidation.MaxStock, ct), ct);
        Assert.Equal(StockChangeResult.AboveMaxStock, doubled!.Result);
        Assert.Equal((ProductValidation.MaxStock, 0), await StockAsync(product, ct));

        // Reserved units count: setting available back to the maximum would put 1,000,005 units on hand.
        var order = Guid.NewGuid();
        await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 5, 1m)], ct), ct);
        var set = await InTransactionAsync(inventory => inventory.ChangeStockAsync(product, ProductValidation.MaxStock, null, ct), ct);
        var added = await InTransactionAsync(inventory => inventory.ChangeStockAsync(product, null, 1, ct), ct);
        Assert.Equal(StockChangeResult.AboveMaxStock, set!.Result);
        Assert.Equal(StockChangeResult.AboveMaxStock, added!.Result);
        Assert.Equal((ProductValidation.MaxStock - 5, 5), await StockAsync(product, ct));

        Assert.Equal(ReservationStatus.Released, await InTransactionAsync(inventory => inventory.ReleaseAsync(order, ct), ct));
        Assert.Equal((ProductValidation.MaxStock, 0), await StockAsync(product, ct));
    }

    [Fact]
    public async Task Raising_stock_above_the_maximum_answers_409_naming_the_field_and_the_figures()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Tarp", ProductValidation.MaxStock, ct);
        await InTransactionAsync(inventory => inventory.ReserveAsync(Guid.NewGuid(), [new OrderLine(product, 5, 1m)], ct), ct);

        var adjusted = await ChangeStockAsync(product, new StockChangeRequest(null, ProductValidation.MaxStock), ct);
        var set = await ChangeStockAsync(product, new StockChangeRequest(ProductValidation.MaxStock, null), ct);

        foreach (var (problem, field) in new[] { (adjusted, "adjustBy"), (set, "availableStock") })
        {
            Assert.Equal(StatusCodes.Status409Conflict, problem.StatusCode);
            Assert.StartsWith($"{field} {ProductValidation.MaxStock} would take product {product} above {ProductValidation.MaxStock} units on hand", problem.ProblemDetails.Detail);
            Assert.EndsWith("999995 available, 5 reserved.", problem.ProblemDetails.Detail);
            Assert.Equal(ProductValidation.MaxStock, problem.ProblemDetails.Extensions["maxOnHand"]);
        }

        Assert.Equal(new StockLevel(product, ProductValidation.MaxStock - 5, 5, ProductValidation.MaxStock), await GetStockAsync(product, ct));
    }

    [Fact]
    public async Task A_row_an_older_version_left_above_the_maximum_is_brought_within_it_by_the_migration_and_still_releases()
    {
        var ct = Timeout();
        await _services.DisposeAsync();
        // The schema before the limit, where the clamp of an older version could leave a product at int.MaxValue.
        _services = await infrastructure.CreateProductsDatabaseAsync(ct, targetMigration: "CatalogInventoryAndEventBus");
        var product = await AddProductAsync("Flask", 10, ct);
        var order = Guid.NewGuid();
        await InTransactionAsync(inventory => inventory.ReserveAsync(order, [new OrderLine(product, 5, 1m)], ct), ct);
        await using (var scope = _services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
            await db.Products.Where(p => p.Id == product).ExecuteUpdateAsync(s => s.SetProperty(p => p.AvailableStock, int.MaxValue), ct);

            await db.Database.MigrateAsync(ct);
        }

        // What is available comes down so that on hand is the maximum; the units held for the order stay held.
        Assert.Equal((ProductValidation.MaxStock - 5, 5), await StockAsync(product, ct));
        Assert.Equal(ReservationStatus.Released, await InTransactionAsync(inventory => inventory.ReleaseAsync(order, ct), ct));
        Assert.Equal((ProductValidation.MaxStock, 0), await StockAsync(product, ct));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(ProductValidation.MaxStock - 4)]
    [InlineData(int.MaxValue)]
    public async Task The_database_itself_refuses_negative_stock_and_more_than_the_maximum_on_hand(int available)
    {
        var ct = Timeout();
        var product = await AddProductAsync("Rope", 10, ct);
        await InTransactionAsync(inventory => inventory.ReserveAsync(Guid.NewGuid(), [new OrderLine(product, 5, 1m)], ct), ct);
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.Products
            .Where(p => p.Id == product).ExecuteUpdateAsync(s => s.SetProperty(p => p.AvailableStock, available), ct));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal((5, 5), await StockAsync(product, ct));
    }

    [Fact]
    public async Task An_admin_update_that_waited_on_a_delete_finds_the_product_gone()
    {
        var ct = Timeout();
        var product = await AddProductAsync("Kettle", 3, ct);
        await using var deleting = _services.CreateAsyncScope();
        var deleteDb = deleting.ServiceProvider.GetRequiredService<ProductsContext>();
        await using var deletion = await deleteDb.Database.BeginTransactionAsync(ct);
        // A delete in flight: the row is locked and changed, the change not committed yet.
        await deleteDb.Products.Where(p => p.Id == product).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsDeleted, true), ct);

        var update = Task.Run(async () =>
        {
            await using var scope = _services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
            var current = await db.Products.AsNoTracking().SingleAsync(p => p.Id == product, ct);
            return await CatalogAdminApi.UpdateItem(product, new UpdateProductRequest("Kettle II", "", 2m, current.BrandId, current.CategoryId), db, TimeProvider.System, ct);
        }, ct);
        await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        await deletion.CommitAsync(ct);

        var problem = Assert.IsType<ProblemHttpResult>((await update).Result);
        Assert.Equal(StatusCodes.Status404NotFound, problem.StatusCode);
        await using var check = _services.CreateAsyncScope();
        var stored = await check.ServiceProvider.GetRequiredService<ProductsContext>().Products.AsNoTracking().SingleAsync(p => p.Id == product, ct);
        Assert.Equal(("Kettle", true), (stored.Name, stored.IsDeleted));
    }

    private async Task<T> InTransactionAsync<T>(Func<InventoryService, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var result = await work(scope.ServiceProvider.GetRequiredService<InventoryService>());
        // As the event bus does after a handler: ReserveAsync leaves its changes to be saved with the caller's.
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task<ProblemHttpResult> ChangeStockAsync(int productId, StockChangeRequest request, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        var result = await CatalogAdminApi.ChangeStock(
            productId,
            request,
            scope.ServiceProvider.GetRequiredService<ProductsContext>(),
            scope.ServiceProvider.GetRequiredService<InventoryService>(),
            cancellationToken);
        return Assert.IsType<ProblemHttpResult>(result.Result);
    }

    private async Task<StockLevel> GetStockAsync(int productId, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        var result = await CatalogAdminApi.GetStock(productId, scope.ServiceProvider.GetRequiredService<ProductsContext>(), cancellationToken);
        return Assert.IsType<Ok<StockLevel>>(result.Result).Value!;
    }

    private async Task<int> AddProductAsync(string name, int stock, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
        var brand = await db.Brands.SingleOrDefaultAsync(b => b.Name == "Test", cancellationToken) ?? new Brand { Name = "Test" };
        var category = await db.Categories.SingleOrDefaultAsync(c => c.Name == "Test", cancellationToken) ?? new Category { Name = "Test" };
        var product = new Product { Name = name, Description = "", Price = 1m, AvailableStock = stock };
        product.SetBrandAndCategory(brand, category);
        db.Products.Add(product);
        await db.SaveChangesAsync(cancellationToken);
        return product.Id;
    }

    private async Task<(int Available, int Reserved)> StockAsync(int productId, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        var product = await scope.ServiceProvider.GetRequiredService<ProductsContext>().Products.AsNoTracking()
            .SingleAsync(p => p.Id == productId, cancellationToken);
        return (product.AvailableStock, product.ReservedStock);
    }

    private async Task<int> CountReservationsAsync(ReservationStatus status, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ProductsContext>().StockReservations.CountAsync(r => r.Status == status, cancellationToken);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
