using System.Text.Json.Serialization;

namespace Payment.Api.Model;

/// <summary>
/// One charge or refund of an order against the external payment gateway: the request, which the processor sends
/// (and re-sends under the same <see cref="IdempotencyKey"/>) until the gateway settles it, and its outcome. An order
/// has at most one charge and one refund (a unique index), so nothing a redelivered event or a retry does can charge
/// it twice.
/// </summary>
public class PaymentRecord
{
    public Guid Id { get; set; }

    public Guid OrderId { get; set; }

    /// <summary>The buyer (identity user id), so a buyer is shown only their own payments.</summary>
    public required string BuyerId { get; set; }

    public PaymentKind Kind { get; set; }

    public PaymentStatus Status { get; set; }

    public decimal Amount { get; set; }

    /// <summary>ISO 4217 code.</summary>
    public required string Currency { get; set; }

    /// <summary>Sent with every attempt, derived from the order: the gateway settles each key once.</summary>
    public required string IdempotencyKey { get; set; }

    /// <summary>The gateway's own id of the transaction, once it has answered.</summary>
    public string? GatewayReference { get; set; }

    /// <summary>For a refund: the charge it gives back.</summary>
    public Guid? RefundOf { get; set; }

    /// <summary>Why a charge was declined or given up.</summary>
    public string? FailureReason { get; set; }

    /// <summary>
    /// Times the processor took this payment up, less those no try of which can have been acted on (refused on this
    /// side, or answered 503 "nothing done"). More than one means an earlier attempt may have reached the gateway (its
    /// answer lost), so the outcome is learned by looking the key up at the gateway, never assumed.
    /// </summary>
    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>A charge not settled by then is given up and the order cancelled; refunds have none (they are owed).</summary>
    public DateTimeOffset? Deadline { get; set; }

    /// <summary>The order was cancelled (or the charge given up) while the charge was pending: never charge it, or refund what was.</summary>
    public bool CancelRequested { get; set; }

    public string? LastError { get; set; }

    /// <summary>W3C trace context of the event that asked for this payment, so its gateway calls join the checkout's trace.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public static string ChargeKey(Guid orderId) => $"order-{orderId:N}-charge";

    public static string RefundKey(Guid orderId) => $"order-{orderId:N}-refund";
}

[JsonConverter(typeof(JsonStringEnumConverter<PaymentKind>))]
public enum PaymentKind
{
    Charge,
    Refund,
}

[JsonConverter(typeof(JsonStringEnumConverter<PaymentStatus>))]
public enum PaymentStatus
{
    /// <summary>Not settled yet: the processor sends it (again) when <see cref="PaymentRecord.NextAttemptAt"/> comes.</summary>
    Pending,
    Succeeded,
    Declined,

    /// <summary>Given up: the gateway was unreachable until the deadline and never saw the request, or refused it for good.</summary>
    Failed,

    /// <summary>The order was cancelled before the charge was sent, or before the gateway made it (its key looked up and not found).</summary>
    Cancelled,
}

public sealed record PaymentResponse(
    Guid Id,
    Guid OrderId,
    PaymentKind Kind,
    PaymentStatus Status,
    decimal Amount,
    string Currency,
    string? FailureReason,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);
