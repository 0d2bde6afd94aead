using System.Text.Json.Serialization;

namespace Ordering.Api.Model;

/// <summary>
/// An order and its place in the checkout saga: Submitted → StockReserved → Paid → Confirmed, or Cancelled from
/// Submitted or StockReserved. Each change appends to <see cref="History"/>; a change the saga does not allow (a late
/// or repeated event) returns false and changes nothing.
/// </summary>
public class Order
{
    public Guid Id { get; set; }

    /// <summary>The identity service's user id (the token's <c>sub</c>).</summary>
    public required string BuyerId { get; set; }

    public OrderStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public decimal Total { get; set; }

    /// <summary>ISO 4217 code of <see cref="Total"/> and the lines' prices.</summary>
    public required string Currency { get; set; }

    /// <summary>The client's <c>Idempotency-Key</c>; unique per buyer.</summary>
    public required string IdempotencyKey { get; set; }

    /// <summary>A hash of the request the key was first used with, to refuse the key's reuse for another cart.</summary>
    public required string RequestHash { get; set; }

    /// <summary>Why the order was cancelled, once it is.</summary>
    public string? CancellationReason { get; set; }

    /// <summary>PostgreSQL's row version (xmin): concurrent changes of one order fail instead of overwriting each other.</summary>
    public uint Version { get; set; }

    public List<OrderLine> Lines { get; set; } = [];

    public List<OrderStatusChange> History { get; set; } = [];

    public bool IsFinal => Status.IsFinal();

    public static Order Submit(Guid id, string buyerId, string idempotencyKey, string requestHash, string currency, IEnumerable<OrderLine> lines, DateTimeOffset now)
    {
        var order = new Order
        {
            Id = id,
            BuyerId = buyerId,
            IdempotencyKey = idempotencyKey,
            RequestHash = requestHash,
            Currency = currency,
            CreatedAt = now,
            Lines = [.. lines],
        };
        order.Total = order.Lines.Sum(l => l.UnitPrice * l.Quantity);
        order.MoveTo(OrderStatus.Submitted, null, now);
        return order;
    }

    /// <summary>Products reserved every line: the order awaits payment.</summary>
    public bool ReserveStock(DateTimeOffset now) => Status == OrderStatus.Submitted && MoveTo(OrderStatus.StockReserved, null, now);

    /// <summary>The charge went through: paid, and with that confirmed (products turns the reservation into a sale).</summary>
    public bool ConfirmPayment(DateTimeOffset now) =>
        Status == OrderStatus.StockReserved && MoveTo(OrderStatus.Paid, null, now) && MoveTo(OrderStatus.Confirmed, null, now);

    /// <summary>Whether the order can still be cancelled: nothing has been paid for yet.</summary>
    public bool CanCancel => Status is OrderStatus.Submitted or OrderStatus.StockReserved;

    public bool Cancel(string reason, DateTimeOffset now)
    {
        if (!CanCancel)
        {
            return false;
        }

        CancellationReason = reason;
        return MoveTo(OrderStatus.Cancelled, reason, now);
    }

    private bool MoveTo(OrderStatus status, string? reason, DateTimeOffset now)
    {
        Status = status;
        UpdatedAt = now;
        History.Add(new OrderStatusChange { OrderId = Id, Status = status, Reason = reason, At = now });
        return true;
    }
}

public class OrderLine
{
    public int Id { get; set; }

    public Guid OrderId { get; set; }

    public int ProductId { get; set; }

    /// <summary>Name and price as quoted when the order was placed; later catalog changes do not alter them.</summary>
    public required string ProductName { get; set; }

    public decimal UnitPrice { get; set; }

    public int Quantity { get; set; }
}

/// <summary>One step of an order's status history. Its id orders the changes of one order and is the event id of that order's status stream.</summary>
public class OrderStatusChange
{
    public long Id { get; set; }

    public Guid OrderId { get; set; }

    public OrderStatus Status { get; set; }

    public string? Reason { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>
    /// The transaction that recorded the change (<c>pg_current_xact_id()</c>, set by the database). The stream of all a
    /// buyer's orders resumes by it rather than by <see cref="Id"/>: ids are taken at insert, so changes of different
    /// orders can commit out of id order, and "after id N" skipped those that committed late.
    /// </summary>
    public long TransactionId { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<OrderStatus>))]
public enum OrderStatus
{
    Submitted,
    StockReserved,
    Paid,
    Confirmed,
    Cancelled,
}

public static class OrderStatuses
{
    /// <summary>The statuses nothing follows. A list, not a pattern, so that EF Core can put it in a query (<c>= ANY</c>).</summary>
    public static readonly IReadOnlyList<OrderStatus> Final = [OrderStatus.Confirmed, OrderStatus.Cancelled];

    public static bool IsFinal(this OrderStatus status) => Final.Contains(status);
}
