namespace Payment.Api.Processing;

/// <summary>Settings of the <c>Payment</c> configuration section: how pending payments are sent and retried.</summary>
public sealed class PaymentOptions
{
    public const string SectionName = "Payment";

    /// <summary>
    /// How long a charge may wait for the gateway (circuit open, gateway failing) before the order is cancelled with
    /// <c>PaymentFailed</c>. A charge that may have reached the gateway is still resolved afterwards: looked up under
    /// its key until the gateway answers, and refunded if it went through.
    /// </summary>
    public TimeSpan ChargeDeadline { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Delay before a payment the gateway did not settle is sent again; doubles per attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Payments one replica works on at once (each holds a database connection while its gateway call runs).</summary>
    public int MaxConcurrentPayments { get; set; } = 32;

    /// <summary>How often the processor looks for due payments when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
