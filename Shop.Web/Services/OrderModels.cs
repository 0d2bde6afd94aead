using System.Text.Json.Serialization;

namespace Shop.Web.Services;

/// <summary>Where an order is in the checkout saga (ordering's statuses).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OrderStatus>))]
public enum OrderStatus
{
    Submitted,
    StockReserved,
    Paid,
    Confirmed,
    Cancelled,
}

public static class OrderStatusText
{
    /// <summary>The status as a shopper reads it.</summary>
    public static string Label(this OrderStatus status) => status switch
    {
        OrderStatus.Submitted => "Received",
        OrderStatus.StockReserved => "Awaiting payment",
        OrderStatus.Paid => "Paid",
        OrderStatus.Confirmed => "Confirmed",
        OrderStatus.Cancelled => "Cancelled",
        _ => status.ToString(),
    };

    public static bool IsFinal(this OrderStatus status) => status is OrderStatus.Confirmed or OrderStatus.Cancelled;

    /// <summary>Ordering lets the buyer cancel until the order is paid for.</summary>
    public static bool CanCancel(this OrderStatus status) => status is OrderStatus.Submitted or OrderStatus.StockReserved;
}

public sealed record OrderLine(int ProductId, string ProductName, string? PictureUrl, decimal UnitPrice, int Quantity, decimal LineTotal);

public sealed record OrderStatusChange(long Id, OrderStatus Status, string? Reason, DateTimeOffset At);

/// <summary>One order as its buyer sees it, with its status history.</summary>
public sealed record Order(
    Guid Id,
    OrderStatus Status,
    decimal Total,
    string Currency,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? CancellationReason,
    IReadOnlyList<OrderLine> Lines,
    IReadOnlyList<OrderStatusChange> History)
{
    /// <summary>
    /// The order after a change from its status stream. A change already in the history (the stream replays what
    /// happened before it connected) adds nothing; history stays in the order ordering recorded it, and the status is
    /// its latest change.
    /// </summary>
    public Order With(OrderStatusEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);

        if (change.OrderId != Id)
        {
            return this;
        }

        List<OrderStatusChange> history = [.. History];
        if (!history.Exists(h => h.Id == change.Id))
        {
            history.Add(new OrderStatusChange(change.Id, change.Status, change.Reason, change.At));
            history.Sort((a, b) => a.Id.CompareTo(b.Id));
        }

        // The status is the latest change of the history, also when this change was already there: an order read
        // while a change committed may hold it in its history before its status says so.
        var latest = history[^1];
        if (history.Count == History.Count && latest.Status == Status)
        {
            return this;
        }

        return this with
        {
            Status = latest.Status,
            UpdatedAt = latest.At,
            CancellationReason = latest.Status == OrderStatus.Cancelled ? latest.Reason ?? CancellationReason : CancellationReason,
            History = history,
        };
    }
}

/// <summary>A row of the buyer's order list.</summary>
public sealed record OrderSummary(
    Guid Id,
    OrderStatus Status,
    decimal Total,
    string Currency,
    DateTimeOffset CreatedAt,
    string? CancellationReason,
    int ItemCount,
    IReadOnlyList<OrderLine> Lines);

public sealed record OrderPage(int PageIndex, int PageSize, long Count, IReadOnlyList<OrderSummary> Data)
{
    public int PageCount => (int)Math.Ceiling(Count / (double)PageSize);
}

/// <summary>A charge or a refund of an order (payment's record).</summary>
public sealed record Payment(
    Guid Id,
    Guid OrderId,
    string Kind,
    string Status,
    decimal Amount,
    string Currency,
    string? FailureReason,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>
/// The order page's data, composed by the gateway's BFF endpoint: the order, its payments and its products' current
/// catalog entries. A part that is missing is null and named in one of two lists: <see cref="Unavailable"/> when its
/// service failed (it may come back), <see cref="NotPermitted"/> when the shopper may not see it (asking again will
/// not bring it). A gateway from before <c>notPermitted</c> leaves it out: null.
/// </summary>
public sealed record OrderDetails(
    Order Order,
    IReadOnlyList<Payment>? Payments,
    IReadOnlyList<CatalogItem>? Products,
    IReadOnlyList<string> Unavailable,
    IReadOnlyList<string>? NotPermitted)
{
    /// <summary>The gateway's name of the payments part in <see cref="Unavailable"/> and <see cref="NotPermitted"/>.</summary>
    public const string PaymentsPart = "payments";

    /// <summary>Whether the gateway left <paramref name="part"/> out because the shopper may not see it.</summary>
    public bool IsNotPermitted(string part) => NotPermitted?.Contains(part, StringComparer.Ordinal) == true;

    /// <summary>
    /// Whether the payment part shows all that will happen to the order's payments: none is pending, and a charge that
    /// went through for a cancelled order has its refund. Payment settles an order after ordering does (it reacts to
    /// the order's final status), so a final order's payments may still change for a while. Payments the shopper may
    /// not see never will be shown; payments that are unavailable may be later.
    /// </summary>
    public bool PaymentsSettled => Payments switch
    {
        null => IsNotPermitted(PaymentsPart),
        { } payments => payments.All(p => p.Status != PendingStatus)
            && !(Order.Status == OrderStatus.Cancelled
                 && payments.Any(p => p is { Kind: ChargeKind, Status: SucceededStatus })
                 && !payments.Any(p => p.Kind == RefundKind)),
    };

    private const string PendingStatus = "Pending";
    private const string SucceededStatus = "Succeeded";
    private const string ChargeKind = "Charge";
    private const string RefundKind = "Refund";
}

public static class OrderDetailsText
{
    /// <summary>
    /// What the order page says where its payments would be when the gateway left them out: refused to this shopper is
    /// not the same as payment being down, and "right now" would promise a retry that cannot help.
    /// </summary>
    public static string MissingPayments(this OrderDetails details)
    {
        ArgumentNullException.ThrowIfNull(details);
        return details.IsNotPermitted(OrderDetails.PaymentsPart)
            ? "You are not permitted to see the payment details."
            : "Payment details are unavailable right now.";
    }
}

/// <summary>An event of ordering's status stream: an order moved to <see cref="Status"/>.</summary>
public sealed record OrderStatusEvent(long Id, Guid OrderId, OrderStatus Status, string? Reason, DateTimeOffset At);
