namespace Products.Api.Model;

public enum ReservationStatus
{
    /// <summary>Every line is held: available stock went down, reserved stock up.</summary>
    Reserved,

    /// <summary>Some line could not be held, so none is.</summary>
    Rejected,

    /// <summary>The order was paid: the held units left stock.</summary>
    Sold,

    /// <summary>The order was cancelled while reserved: the held units are available again.</summary>
    Released,

    /// <summary>The order was cancelled before any reservation: a later submission of it reserves nothing.</summary>
    Cancelled,
}

/// <summary>What inventory did for one order; its id is the order's.</summary>
public class StockReservation
{
    public Guid OrderId { get; set; }

    public ReservationStatus Status { get; set; }

    public List<StockReservationLine> Lines { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public class StockReservationLine
{
    public Guid OrderId { get; set; }

    public int ProductId { get; set; }

    public int Quantity { get; set; }
}
