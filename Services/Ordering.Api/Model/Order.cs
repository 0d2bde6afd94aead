namespace Ordering.Api.Model;

public class Order
{
    public Guid Id { get; set; }

    /// <summary>The identity service's user id (the token's <c>sub</c>).</summary>
    public required string BuyerId { get; set; }

    public OrderStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public decimal Total { get; set; }

    public List<OrderLine> Lines { get; set; } = [];
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

public enum OrderStatus
{
    Submitted,
    StockReserved,
    Paid,
    Confirmed,
    Cancelled,
}
