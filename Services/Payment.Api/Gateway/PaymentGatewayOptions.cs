namespace Payment.Api.Gateway;

/// <summary>
/// The external payment gateway (section <c>PaymentGateway</c>) and how calls to it are guarded. Each call, with its
/// retries, holds one of <see cref="MaxConcurrentCalls"/> slots (bulkhead; <see cref="QueueLimit"/> more wait) and
/// ends within <see cref="TotalTimeout"/>; each attempt within <see cref="AttemptTimeout"/>; transient failures
/// (connection errors, timeouts, 408, 429, 5xx) are retried <see cref="MaxRetries"/> times with exponential backoff
/// and jitter; when at least <see cref="FailureRatio"/> of <see cref="MinimumThroughput"/> or more calls in
/// <see cref="SamplingDuration"/> fail, the circuit opens and calls are refused without reaching the gateway for
/// <see cref="BreakDuration"/>, after which one trial call decides whether it closes again.
/// </summary>
public sealed class PaymentGatewayOptions
{
    public const string SectionName = "PaymentGateway";

    /// <summary>Resolved by service discovery: the AppHost's <c>payment-gateway</c> resource.</summary>
    public Uri BaseAddress { get; set; } = new("http://payment-gateway");

    /// <summary>The merchant's secret API key, sent as a bearer token.</summary>
    public string ApiKey { get; set; } = "";

    public int MaxConcurrentCalls { get; set; } = 16;

    public int QueueLimit { get; set; } = 64;

    /// <summary>A call with its retries: room for every attempt to run out its <see cref="AttemptTimeout"/>, and the backoff.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(35);

    /// <summary>
    /// One try. Card gateways document answers within several seconds (the issuer's authorisation is on their path),
    /// so a try given up sooner is one the gateway is still carrying out: its retry only waits for the same answer
    /// again, and the charge stalls while the card is charged. Keep it above the gateway's latency (the simulator's
    /// <c>payment-gateway-latency-ms</c> parameter in the AppHost).
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxRetries { get; set; } = 2;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public double FailureRatio { get; set; } = 0.5;

    public int MinimumThroughput { get; set; } = 8;

    /// <summary>
    /// The circuit breaker's window; unset, twice <see cref="AttemptTimeout"/>. A window shorter than that cannot hold
    /// two waves of tries that time out (each ends an attempt timeout after it began), so against a gateway that hangs
    /// with a few payments in flight the circuit would never see enough failures to open. Set, it must be at least that
    /// long (the rule Microsoft.Extensions.Http.Resilience applies to its standard handler).
    /// </summary>
    public TimeSpan? SamplingDuration { get; set; }

    public TimeSpan EffectiveSamplingDuration => SamplingDuration ?? 2 * AttemptTimeout;

    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}
