using System.Text.Json.Serialization;

namespace Payment.Api.Model;

/// <summary>One charge or refund for an order, as the external payment gateway settled it.</summary>
public class PaymentRecord
{
    public Guid Id { get; set; }

    public Guid OrderId { get; set; }

    public PaymentKind Kind { get; set; }

    public PaymentStatus Status { get; set; }

    public decimal Amount { get; set; }

    /// <summary>ISO 4217 code.</summary>
    public required string Currency { get; set; }

    /// <summary>The gateway's own reference for the transaction, once it has answered.</summary>
    public string? GatewayReference { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
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
    Pending,
    Succeeded,
    Declined,
    Failed,
}

public sealed record PaymentResponse(
    Guid Id,
    Guid OrderId,
    PaymentKind Kind,
    PaymentStatus Status,
    decimal Amount,
    string Currency,
    DateTimeOffset CreatedAt);
