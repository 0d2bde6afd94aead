using System.Net.Http.Headers;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Payment.Api.Telemetry;
using Polly;
using Polly.CircuitBreaker;

namespace Payment.Api.Gateway;

public static partial class PaymentGatewayResilience
{
    public const string PipelineName = "payment-gateway";

    /// <summary>
    /// Registers <see cref="PaymentGatewayClient"/> with its own resilience pipeline in place of the service defaults'
    /// standard handler, outermost first: bulkhead (concurrency limiter), total timeout, retry, circuit breaker,
    /// attempt timeout; inside them <see cref="GatewayTryTracker"/> notes whether any try may have reached the gateway.
    /// The circuit's state is kept in a <see cref="CircuitBreakerStateProvider"/> singleton for the
    /// metrics and the processor; its openings and closings are logged.
    /// </summary>
    public static IHostApplicationBuilder AddPaymentGatewayClient(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddOptions<PaymentGatewayOptions>()
            .Bind(builder.Configuration.GetSection(PaymentGatewayOptions.SectionName))
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey),
                "PaymentGateway:ApiKey is not set: run through Shop.AppHost (parameter payment-gateway-api-key) or set PaymentGateway__ApiKey.")
            .Validate(o => o.MaxConcurrentCalls > 0 && o.QueueLimit >= 0 && o.MaxRetries >= 0 && o.MinimumThroughput >= 2,
                "PaymentGateway: MaxConcurrentCalls must be positive, QueueLimit and MaxRetries not negative, MinimumThroughput at least 2.")
            .Validate(o => o.FailureRatio is > 0 and <= 1, "PaymentGateway:FailureRatio must be in (0, 1].")
            .Validate(o => o.AttemptTimeout > TimeSpan.Zero && o.TotalTimeout >= o.AttemptTimeout && o.BreakDuration >= TimeSpan.FromMilliseconds(500),
                "PaymentGateway: timeouts must be positive with TotalTimeout ≥ AttemptTimeout; BreakDuration at least 0.5 s.")
            .Validate(o => o.EffectiveSamplingDuration >= 2 * o.AttemptTimeout,
                "PaymentGateway:SamplingDuration must be at least twice PaymentGateway:AttemptTimeout (leave it unset for exactly that), " +
                "or the circuit breaker cannot count the failures of tries that time out.")
            .ValidateOnStart();

        var circuit = new CircuitBreakerStateProvider();
        builder.Services.AddSingleton(circuit);

        var client = builder.Services.AddHttpClient<PaymentGatewayClient>((services, http) =>
        {
            var options = services.GetRequiredService<IOptions<PaymentGatewayOptions>>().Value;
            http.BaseAddress = options.BaseAddress;
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            // The pipeline's timeouts govern; HttpClient's own 100 s would only hide them.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });

        // The standard handler (service defaults) would retry without a bulkhead, with settings shared by every client.
        // RemoveAllResilienceHandlers is marked experimental (EXTEXP0001) but is the documented way to replace it.
#pragma warning disable EXTEXP0001
        client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        client.AddResilienceHandler(PipelineName, (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<PaymentGatewayOptions>>().Value;
            var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PaymentGatewayClient));
            var telemetry = context.ServiceProvider.GetRequiredService<PaymentTelemetry>();

            pipeline
                .AddConcurrencyLimiter(new ConcurrencyLimiterOptions
                {
                    PermitLimit = options.MaxConcurrentCalls,
                    QueueLimit = options.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                })
                .AddTimeout(options.TotalTimeout)
                .AddRetry(new HttpRetryStrategyOptions
                {
                    // Safe for POST: every request carries an Idempotency-Key.
                    MaxRetryAttempts = options.MaxRetries,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.RetryDelay,
                })
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = options.FailureRatio,
                    MinimumThroughput = options.MinimumThroughput,
                    SamplingDuration = options.EffectiveSamplingDuration,
                    BreakDuration = options.BreakDuration,
                    StateProvider = circuit,
                    OnOpened = args =>
                    {
                        telemetry.CircuitOpened();
                        LogCircuitOpened(logger, args.BreakDuration.TotalSeconds, Describe(args.Outcome));
                        return ValueTask.CompletedTask;
                    },
                    OnHalfOpened = _ =>
                    {
                        LogCircuitHalfOpened(logger);
                        return ValueTask.CompletedTask;
                    },
                    OnClosed = _ =>
                    {
                        LogCircuitClosed(logger);
                        return ValueTask.CompletedTask;
                    },
                })
                .AddTimeout(options.AttemptTimeout);
        });
        // Added after the resilience handler, so it runs inside it: once per try actually sent.
        client.AddHttpMessageHandler(() => new GatewayTryTracker());

        return builder;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception?.Message ?? (outcome.Result is { } response ? $"HTTP {(int)response.StatusCode}" : "unknown");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment gateway circuit opened for {BreakSeconds} s after repeated failures (last: {LastFailure}); payments wait and are retried")]
    private static partial void LogCircuitOpened(ILogger logger, double breakSeconds, string lastFailure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment gateway circuit half-open: the next call is a trial")]
    private static partial void LogCircuitHalfOpened(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment gateway circuit closed: the gateway answers again")]
    private static partial void LogCircuitClosed(ILogger logger);
}
