using Microsoft.EntityFrameworkCore;
using Npgsql;
using Products.Api.Caching;
using Products.Api.Infrastructure;
using Products.Api.Model;
using Shop.IntegrationEvents;

namespace Products.Api.Inventory;

/// <summary>What reserving an order's stock came to.</summary>
public abstract record ReservationOutcome
{
    private ReservationOutcome()
    {
    }

    public sealed record Reserved(StockReservation Reservation) : ReservationOutcome;

    public sealed record Rejected(IReadOnlyList<RejectedLine> Lines) : ReservationOutcome;

    /// <summary>Inventory had already acted on this order (a second submission of it): nothing changed.</summary>
    public sealed record AlreadyHandled(ReservationStatus Status) : ReservationOutcome;
}

/// <summary>
/// Stock held for orders, sold and released. Every method must run inside a transaction (the event bus's, or the
/// caller's): it locks the product rows it changes with <c>SELECT … FOR UPDATE</c>, in ascending id order so that two
/// orders sharing products never deadlock, decides on what it read under the lock, and saves. A concurrent order for
/// the same products waits for the lock and then reads the committed result, so stock can never be promised twice;
/// the database's check constraint (available and reserved never negative) stands behind that.
/// <see cref="ReserveAsync"/> leaves the save to its caller, which saves the reservation together with its answer to
/// ordering in one round trip.
/// </summary>
public sealed class InventoryService(ProductsContext db, TimeProvider timeProvider)
{
    /// <summary>Holds every line of the order, or none. The changes are tracked, not saved: the caller saves them.</summary>
    public async Task<ReservationOutcome> ReserveAsync(Guid orderId, IReadOnlyList<OrderLine> lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        // The saga's step: it must not wait on Redis for the other replicas to hear of the new stock figure.
        PendingInvalidations.WithoutWaitingForOtherReplicas(db);

        // One round trip in the usual case: the products are locked only while the order has no reservation. No rows
        // back means it has one (a repeated submission, or its cancellation came first), or none of its products exist.
        var products = await LockProductsAsync(lines.Select(l => l.ProductId), cancellationToken, unlessReservedFor: orderId);
        if (products.Count == 0 && await LockReservationAsync(orderId, cancellationToken) is { } existing)
        {
            return new ReservationOutcome.AlreadyHandled(existing.Status);
        }

        var available = products.Values.Where(p => !p.IsDeleted).ToDictionary(p => p.Id, p => p.AvailableStock);
        var now = timeProvider.GetUtcNow();
        var reservation = new StockReservation { OrderId = orderId, CreatedAt = now, UpdatedAt = now };
        db.StockReservations.Add(reservation);

        switch (StockAllocation.Decide(lines, available))
        {
            case AllocationDecision.Reserve reserve:
                foreach (var (productId, quantity) in reserve.Quantities)
                {
                    var product = products[productId];
                    product.AvailableStock -= quantity;
                    product.ReservedStock += quantity;
                    product.UpdatedAt = now;
                    reservation.Lines.Add(new StockReservationLine { OrderId = orderId, ProductId = productId, Quantity = quantity });
                }

                reservation.Status = ReservationStatus.Reserved;
                return new ReservationOutcome.Reserved(reservation);

            case AllocationDecision.Reject reject:
                reservation.Status = ReservationStatus.Rejected;
                return new ReservationOutcome.Rejected(reject.Lines);

            default:
                throw new InvalidOperationException("Unknown allocation decision.");
        }
    }

    /// <summary>
    /// The order was paid: its held units leave stock. Returns the status found when it was not reserved (no change then).
    /// </summary>
    /// <remarks>
    /// One round trip, because every paid order comes through here: the reservation's row is locked and read, its
    /// products are locked in id order (as everywhere in this class), their reserved units are taken away and the
    /// reservation becomes sold, four statements in one batch, each seeing the ones before it. A sale changes nothing a
    /// cached view shows, so going around EF Core's change tracker skips no cache invalidation.
    /// </remarks>
    public async Task<ReservationStatus?> ConfirmAsync(Guid orderId, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Confirming a reservation must run inside a transaction.");
        }

        var now = timeProvider.GetUtcNow();
        const string Reserved = nameof(ReservationStatus.Reserved);
        const string IsReserved = $"""EXISTS (SELECT 1 FROM "StockReservations" WHERE "OrderId" = $1 AND "Status" = '{Reserved}')""";
        await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection())
        {
            BatchCommands =
            {
                Sale("""SELECT "Status" FROM "StockReservations" WHERE "OrderId" = $1 FOR UPDATE"""),
                Sale($"""
                    SELECT p."Id" FROM "Products" AS p
                    WHERE p."Id" IN (SELECT l."ProductId" FROM "StockReservationLines" AS l WHERE l."OrderId" = $1) AND {IsReserved}
                    ORDER BY p."Id" FOR UPDATE
                    """),
                Sale($"""
                    UPDATE "Products" AS p SET "ReservedStock" = p."ReservedStock" - l."Quantity", "UpdatedAt" = $2
                    FROM "StockReservationLines" AS l
                    WHERE l."OrderId" = $1 AND p."Id" = l."ProductId" AND {IsReserved}
                    """),
                Sale($"""UPDATE "StockReservations" SET "Status" = '{nameof(ReservationStatus.Sold)}', "UpdatedAt" = $2 WHERE "OrderId" = $1 AND "Status" = '{Reserved}'"""),
            },
        };

        NpgsqlBatchCommand Sale(string sql) => new(sql)
        {
            Parameters = { new NpgsqlParameter { Value = orderId }, new NpgsqlParameter { Value = now } },
        };

        ReservationStatus? found = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                found = Enum.Parse<ReservationStatus>(reader.GetString(0));
            }

            // Read through the other statements' results, so that an error in any of them is raised here.
            while (await reader.NextResultAsync(cancellationToken))
            {
            }
        }

        return found == ReservationStatus.Reserved ? ReservationStatus.Sold : found;
    }

    /// <summary>
    /// The order was cancelled: units still held become available again. An order inventory never saw is recorded as
    /// cancelled, so that a submission arriving after its cancellation reserves nothing.
    /// </summary>
    /// <returns>The reservation's status afterwards.</returns>
    public async Task<ReservationStatus> ReleaseAsync(Guid orderId, CancellationToken cancellationToken)
    {
        PendingInvalidations.WithoutWaitingForOtherReplicas(db);
        var now = timeProvider.GetUtcNow();
        var reservation = await LockReservationAsync(orderId, cancellationToken);
        if (reservation is null)
        {
            db.StockReservations.Add(new StockReservation { OrderId = orderId, Status = ReservationStatus.Cancelled, CreatedAt = now, UpdatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            return ReservationStatus.Cancelled;
        }

        if (reservation.Status != ReservationStatus.Reserved)
        {
            return reservation.Status;
        }

        var products = await LockProductsAsync(reservation.Lines.Select(l => l.ProductId), cancellationToken);
        foreach (var line in reservation.Lines)
        {
            var product = products[line.ProductId];
            product.ReservedStock -= line.Quantity;
            product.AvailableStock += line.Quantity;
            product.UpdatedAt = now;
        }

        reservation.Status = ReservationStatus.Released;
        reservation.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return ReservationStatus.Released;
    }

    /// <summary>An admin's stock change: a new count, or units added or taken away. Null when there is no such product.</summary>
    public async Task<StockChangeOutcome?> ChangeStockAsync(int productId, int? availableStock, int? adjustBy, CancellationToken cancellationToken)
    {
        var products = await LockProductsAsync([productId], cancellationToken);
        if (!products.TryGetValue(productId, out var product) || product.IsDeleted)
        {
            return null;
        }

        var target = availableStock ?? (long)product.AvailableStock + adjustBy.GetValueOrDefault();
        var result = ProductValidation.CheckStockChange(product.AvailableStock, product.ReservedStock, target);
        if (result != StockChangeResult.Applied)
        {
            return new StockChangeOutcome(product, result);
        }

        product.AvailableStock = checked((int)target);
        product.UpdatedAt = timeProvider.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return new StockChangeOutcome(product, result);
    }

    /// <summary>
    /// The order's reservation with its lines, its row locked for this transaction: one query (PostgreSQL takes the
    /// lock in the sub-select that EF Core joins the lines to).
    /// </summary>
    private Task<StockReservation?> LockReservationAsync(Guid orderId, CancellationToken cancellationToken) =>
        db.StockReservations
            .FromSql($"""SELECT * FROM "StockReservations" WHERE "OrderId" = {orderId} FOR UPDATE""")
            .Include(r => r.Lines)
            .AsSingleQuery()
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// The products with these ids (deleted ones included), their rows locked for this transaction, in id order. With
    /// <paramref name="unlessReservedFor"/>, none are locked or returned if that order has a reservation.
    /// </summary>
    private async Task<Dictionary<int, Product>> LockProductsAsync(IEnumerable<int> productIds, CancellationToken cancellationToken, Guid? unlessReservedFor = null)
    {
        var ids = productIds.Distinct().Order().ToArray();
        var query = unlessReservedFor is { } orderId
            ? db.Products.FromSql($"""
                SELECT * FROM "Products"
                WHERE "Id" = ANY({ids}) AND NOT EXISTS (SELECT 1 FROM "StockReservations" WHERE "OrderId" = {orderId})
                ORDER BY "Id" FOR UPDATE
                """)
            : db.Products.FromSql($"""SELECT * FROM "Products" WHERE "Id" = ANY({ids}) ORDER BY "Id" FOR UPDATE""");
        var products = await query.ToListAsync(cancellationToken);
        return products.ToDictionary(p => p.Id);
    }
}

/// <summary>An admin's stock change: the product as it is now, and whether the change was made or why not.</summary>
public sealed record StockChangeOutcome(Product Product, StockChangeResult Result);
