using Microsoft.EntityFrameworkCore;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;

namespace Ordering.Api.Services;

/// <summary>
/// A buyer's orders as the API shows them: from ordering's own tables and its read model of the catalog (pictures),
/// never from the products service. Every query is scoped to the buyer: another user's order is simply not found.
/// </summary>
public sealed class OrderQueries(OrderingContext db)
{
    public async Task<OrderResponse?> GetAsync(string buyerId, Guid orderId, CancellationToken cancellationToken)
    {
        // One statement, so one snapshot: split into three queries, a status change committed between them gave an
        // order whose history already held the change while its status did not (a storefront page then showed
        // "Received" under an "Awaiting payment" history). An order has few lines and at most five history entries.
        var order = await db.Orders.AsNoTracking()
            .Include(o => o.Lines)
            .Include(o => o.History)
            .AsSingleQuery()
            .SingleOrDefaultAsync(o => o.Id == orderId && o.BuyerId == buyerId, cancellationToken);
        return order is null ? null : ToResponse(order, await PicturesAsync(order.Lines, cancellationToken));
    }

    public async Task<OrderPage> ListAsync(string buyerId, int pageIndex, int pageSize, CancellationToken cancellationToken)
    {
        var mine = db.Orders.AsNoTracking().Where(o => o.BuyerId == buyerId);
        var count = await mine.LongCountAsync(cancellationToken);
        var orders = await mine
            .OrderByDescending(o => o.CreatedAt)
            .ThenByDescending(o => o.Id)
            .Skip(pageIndex * pageSize)
            .Take(pageSize)
            .Include(o => o.Lines)
            .AsSplitQuery()
            .ToListAsync(cancellationToken);
        var pictures = await PicturesAsync(orders.SelectMany(o => o.Lines), cancellationToken);
        return new OrderPage(pageIndex, pageSize, count, [.. orders.Select(o => new OrderSummary(
            o.Id, o.Status, o.Total, o.Currency, o.CreatedAt, o.CancellationReason, o.Lines.Sum(l => l.Quantity), ToLines(o.Lines, pictures)))]);
    }

    /// <summary>
    /// The buyer's status changes after <paramref name="afterId"/>, oldest first (for a reconnecting stream of one order:
    /// its changes commit one after another, in id order).
    /// </summary>
    public async Task<List<OrderStatusEvent>> ChangesAsync(string buyerId, Guid? orderId, long afterId, int limit, CancellationToken cancellationToken)
    {
        var changes = from change in db.StatusHistory.AsNoTracking()
                      join order in db.Orders on change.OrderId equals order.Id
                      where order.BuyerId == buyerId && change.Id > afterId
                      select change;
        if (orderId is { } id)
        {
            changes = changes.Where(c => c.OrderId == id);
        }

        return await ToEvents(changes, limit, cancellationToken);
    }

    /// <summary>
    /// For a reconnecting stream of all the buyer's orders: the changes a client resuming from
    /// <paramref name="cursor"/> may have missed, those recorded by a transaction from the cursor on (see
    /// <see cref="CommittedChange"/>), in id order, a page at a time after <paramref name="afterId"/>. Some it may have
    /// had already. Each order's are sent from its first such change on: within an order a later change may have the
    /// older transaction (one that took its id first and recorded its change later), and sent alone the earlier change
    /// would leave the client showing a status the order has left.
    /// </summary>
    public async Task<List<OrderStatusEvent>> ChangesSinceAsync(string buyerId, long cursor, long afterId, int limit, CancellationToken cancellationToken)
    {
        var changes = from change in db.StatusHistory.AsNoTracking()
                      join order in db.Orders on change.OrderId equals order.Id
                      where order.BuyerId == buyerId && change.Id > afterId
                          && change.Id >= db.StatusHistory.Where(c => c.OrderId == change.OrderId && c.TransactionId >= cursor).Min(c => (long?)c.Id)
                      select change;
        return await ToEvents(changes, limit, cancellationToken);
    }

    private static Task<List<OrderStatusEvent>> ToEvents(IQueryable<OrderStatusChange> changes, int limit, CancellationToken cancellationToken) =>
        changes
            .OrderBy(c => c.Id)
            .Take(limit)
            .Select(c => new OrderStatusEvent(c.Id, c.OrderId, c.Status, c.Reason, c.At))
            .ToListAsync(cancellationToken);

    /// <summary>
    /// For a client (re)opening an order's stream: whether the order is the buyer's, and if so whether its final status
    /// is among its changes up to <paramref name="throughId"/> (the client has then seen its last one). One round trip.
    /// </summary>
    public async Task<OrderStreamState> StreamStateAsync(string buyerId, Guid orderId, long throughId, CancellationToken cancellationToken)
    {
        var ended = await db.Orders
            .Where(o => o.Id == orderId && o.BuyerId == buyerId)
            .Select(o => (bool?)o.History.Any(c => c.Id <= throughId && OrderStatuses.Final.Contains(c.Status)))
            .SingleOrDefaultAsync(cancellationToken);
        return ended switch
        {
            null => OrderStreamState.NotFound,
            true => OrderStreamState.Ended,
            false => OrderStreamState.Open,
        };
    }

    public static OrderResponse ToResponse(Order order, IReadOnlyDictionary<int, string> pictures) => new(
        order.Id,
        order.Status,
        order.Total,
        order.Currency,
        order.CreatedAt,
        order.UpdatedAt,
        order.CancellationReason,
        ToLines(order.Lines, pictures),
        [.. order.History.OrderBy(h => h.Id).Select(h => new OrderStatusChangeResponse(h.Id, h.Status, h.Reason, h.At))]);

    public async Task<IReadOnlyDictionary<int, string>> PicturesAsync(IEnumerable<OrderLine> lines, CancellationToken cancellationToken)
    {
        var ids = lines.Select(l => l.ProductId).Distinct().ToList();
        return ids.Count == 0
            ? new Dictionary<int, string>()
            : await db.CatalogItems.AsNoTracking()
                .Where(i => ids.Contains(i.ProductId))
                .ToDictionaryAsync(i => i.ProductId, i => i.PictureUrl, cancellationToken);
    }

    private static List<OrderLineResponse> ToLines(IEnumerable<OrderLine> lines, IReadOnlyDictionary<int, string> pictures) =>
        [.. lines.OrderBy(l => l.Id).Select(l => new OrderLineResponse(
            l.ProductId, l.ProductName, pictures.GetValueOrDefault(l.ProductId), l.UnitPrice, l.Quantity, l.UnitPrice * l.Quantity))];
}

public enum OrderStreamState
{
    /// <summary>No such order, or not the buyer's.</summary>
    NotFound,

    /// <summary>The client has already seen the order's final change.</summary>
    Ended,

    Open,
}
