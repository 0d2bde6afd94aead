using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Shop.EventBus;
using Shop.IntegrationEvents;
using OrderLine = Ordering.Api.Model.OrderLine;

namespace Ordering.Api.Services;

/// <summary>What became of a request to place an order.</summary>
public abstract record PlaceOrderResult
{
    /// <summary>A new order, submitted to the saga, with its products' pictures as the catalog gave them.</summary>
    public sealed record Created(Order Order, IReadOnlyDictionary<int, string> Pictures) : PlaceOrderResult;

    /// <summary>The key was used before, for the same cart: the order it made then.</summary>
    public sealed record Replayed(Order Order) : PlaceOrderResult;

    /// <summary>The key was used before for a different cart; nothing was done.</summary>
    public sealed record KeyReused(Order Order) : PlaceOrderResult;

    /// <summary>The cart has problems, keyed by JSON path.</summary>
    public sealed record Invalid(Dictionary<string, string[]> Errors) : PlaceOrderResult;

    /// <summary>Prices could not be read from products; nothing was stored.</summary>
    public sealed record CatalogUnavailable : PlaceOrderResult;

    /// <summary>
    /// The cart priced now (<paramref name="Quote"/>) does not total what the buyer was shown
    /// (<paramref name="ExpectedTotal"/>): nothing was stored, and the key stays free for the reviewed order.
    /// </summary>
    public sealed record TotalChanged(Quote Quote, decimal ExpectedTotal, string Currency) : PlaceOrderResult;
}

/// <summary>
/// Places orders: validates the cart, prices it with products' current prices (over HTTP, never the client's), and
/// stores the order with its <c>OrderSubmitted</c> event in one transaction. The buyer's <c>Idempotency-Key</c> makes a
/// retried request return the order the first one made, never a second order, even when both race.
/// </summary>
public sealed partial class OrderPlacement(
    OrderingContext db,
    ProductsClient products,
    IOptions<OrderingOptions> options,
    TimeProvider timeProvider,
    ILogger<OrderPlacement> logger)
{
    private const string IdempotencyIndex = "IX_Orders_BuyerId_IdempotencyKey";

    // Prices and totals are kept to the currency's minor unit, the cent (precision 18, 2 in OrderingContext).
    private const int MinorUnitDigits = 2;

    /// <param name="expectedTotal">The total the buyer was shown, if the client sent one: the order is placed only at that total.</param>
    public async Task<PlaceOrderResult> PlaceAsync(
        string buyerId, string idempotencyKey, IReadOnlyList<CartItem>? items, decimal? expectedTotal, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(buyerId);
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);

        var errors = CartPricing.Validate(items, "order");
        if (expectedTotal < 0)
        {
            errors["expectedTotal"] = [string.Create(CultureInfo.InvariantCulture, $"The expected total cannot be negative; got {expectedTotal}.")];
        }
        else if (expectedTotal is { } shown && decimal.Round(shown, MinorUnitDigits) != shown)
        {
            // No total has a fraction of a cent: compared with the priced one, such a value was refused as a price
            // change whose message, rounding both to cents, showed no change ("25.90 USD, not the expected 25.90 USD").
            errors["expectedTotal"] = [string.Create(
                CultureInfo.InvariantCulture, $"The expected total can have at most {MinorUnitDigits} decimal places (the currency's minor unit); got {shown}.")];
        }

        if (errors.Count > 0)
        {
            return new PlaceOrderResult.Invalid(errors);
        }

        var cart = items!;
        var requestHash = HashCart(cart);
        // Most keys are new, so the key is not looked up first: the insert below finds a used key (its unique index
        // refuses it), one round trip fewer for every new order. Only where the new order cannot be made, the earlier
        // one is looked for, so that a retry still gets its order while products is down or a product has gone since.
        IReadOnlyList<CatalogProduct> catalog;
        try
        {
            catalog = await products.GetProductsAsync([.. cart.Select(i => i.ProductId)], cancellationToken);
        }
        catch (ProductsUnavailableException)
        {
            return await RepeatOrAsync(new PlaceOrderResult.CatalogUnavailable(), buyerId, idempotencyKey, requestHash, cancellationToken);
        }

        if (!CartPricing.TryPrice(cart, catalog, out var quote, out errors))
        {
            return await RepeatOrAsync(new PlaceOrderResult.Invalid(errors), buyerId, idempotencyKey, requestHash, cancellationToken);
        }

        if (expectedTotal is { } expected && expected != quote.Total)
        {
            // The buyer would pay a total they never saw. A retry of an order placed before the prices changed still
            // gets that order (at the total it was placed for); otherwise nothing is stored, so the key is not used up.
            return await RepeatOrAsync(
                new PlaceOrderResult.TotalChanged(quote, expected, options.Value.Currency), buyerId, idempotencyKey, requestHash, cancellationToken);
        }

        // To the microsecond PostgreSQL keeps, so that this answer shows the times every later read of the order shows.
        var now = timeProvider.GetUtcNow();
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
        var order = Order.Submit(
            Guid.CreateVersion7(now),
            buyerId,
            idempotencyKey,
            requestHash,
            options.Value.Currency,
            quote.Lines.Select(l => new OrderLine { ProductId = l.ProductId, ProductName = Truncate(l.ProductName, 100), UnitPrice = l.UnitPrice, Quantity = l.Quantity }),
            now);
        db.Orders.Add(order);
        db.AddIntegrationEvent(
            new OrderSubmittedIntegrationEvent(order.Id, buyerId, [.. order.Lines.Select(l => new Shop.IntegrationEvents.OrderLine(l.ProductId, l.Quantity, l.UnitPrice))], order.Total),
            order.Id.ToString());
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: IdempotencyIndex })
        {
            // The key was used before (a retry), or by a request that committed first: answer as a retry. The save
            // inserted nothing: its statements ran as one batch, which the failed insert rolled back whole.
            db.ChangeTracker.Clear();
            var winner = await FindByKeyAsync(buyerId, idempotencyKey, cancellationToken)
                ?? throw new InvalidOperationException($"The order with key '{idempotencyKey}' vanished after a conflicting insert.", exception);
            return Repeat(winner, requestHash);
        }

        LogPlaced(logger, order.Id, order.Lines.Count, order.Total, order.Currency);
        return new PlaceOrderResult.Created(order, catalog.Where(p => p.PictureUrl is not null).ToDictionary(p => p.Id, p => p.PictureUrl!));
    }

    /// <summary>Items in product order with their quantities: the same cart hashes the same, however it is listed.</summary>
    public static string HashCart(IEnumerable<CartItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var canonical = string.Join(';', items.OrderBy(i => i.ProductId).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i.ProductId}x{i.Quantity}")));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static PlaceOrderResult Repeat(Order earlier, string requestHash) =>
        earlier.RequestHash == requestHash ? new PlaceOrderResult.Replayed(earlier) : new PlaceOrderResult.KeyReused(earlier);

    /// <summary>A new order cannot be made: the key's earlier order if there is one, else <paramref name="otherwise"/>.</summary>
    private async Task<PlaceOrderResult> RepeatOrAsync(
        PlaceOrderResult otherwise, string buyerId, string idempotencyKey, string requestHash, CancellationToken cancellationToken) =>
        await FindByKeyAsync(buyerId, idempotencyKey, cancellationToken) is { } earlier ? Repeat(earlier, requestHash) : otherwise;

    // One statement, so the status and the history come from one snapshot (as in OrderQueries.GetAsync).
    private Task<Order?> FindByKeyAsync(string buyerId, string idempotencyKey, CancellationToken cancellationToken) =>
        db.Orders.AsNoTracking()
            .Include(o => o.Lines)
            .Include(o => o.History)
            .AsSingleQuery()
            .SingleOrDefaultAsync(o => o.BuyerId == buyerId && o.IdempotencyKey == idempotencyKey, cancellationToken);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} submitted: {LineCount} lines, {Total} {Currency}")]
    private static partial void LogPlaced(ILogger logger, Guid orderId, int lineCount, decimal total, string currency);
}
