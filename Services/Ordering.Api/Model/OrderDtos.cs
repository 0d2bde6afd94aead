namespace Ordering.Api.Model;

/// <param name="Items">The cart: product ids and quantities. Prices always come from the catalog.</param>
/// <param name="ExpectedTotal">
/// The total the buyer was shown, when the client showed one: a guard, never a price. When the catalog's current prices
/// make another total, no order is placed (409 with the current lines and total) and the buyer can review them.
/// </param>
public sealed record CreateOrderRequest(IReadOnlyList<CartItem>? Items, decimal? ExpectedTotal = null);

/// <summary>An order as its buyer sees it. <c>PictureUrl</c> comes from ordering's read model of the catalog.</summary>
public sealed record OrderResponse(
    Guid Id,
    OrderStatus Status,
    decimal Total,
    string Currency,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? CancellationReason,
    IReadOnlyList<OrderLineResponse> Lines,
    IReadOnlyList<OrderStatusChangeResponse> History);

public sealed record OrderLineResponse(int ProductId, string ProductName, string? PictureUrl, decimal UnitPrice, int Quantity, decimal LineTotal);

public sealed record OrderStatusChangeResponse(long Id, OrderStatus Status, string? Reason, DateTimeOffset At);

/// <summary>A row of the buyer's order list.</summary>
public sealed record OrderSummary(
    Guid Id,
    OrderStatus Status,
    decimal Total,
    string Currency,
    DateTimeOffset CreatedAt,
    string? CancellationReason,
    int ItemCount,
    IReadOnlyList<OrderLineResponse> Lines);

public sealed record OrderPage(int PageIndex, int PageSize, long Count, IReadOnlyList<OrderSummary> Data);

/// <summary>An event of the status stream: an order moved to <see cref="Status"/>.</summary>
public sealed record OrderStatusEvent(long Id, Guid OrderId, OrderStatus Status, string? Reason, DateTimeOffset At)
{
    public bool IsFinal => Status.IsFinal();
}
