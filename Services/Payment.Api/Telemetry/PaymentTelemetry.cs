using System.Diagnostics;
using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;

namespace Payment.Api.Telemetry;

/// <summary>
/// Payment's traces and metrics (meter <c>Payment.Api</c>): settled charges and refunds by outcome, gateway calls
/// by outcome, the circuit's openings and its current state (0 closed, 1 open, 2 half-open, 3 isolated).
/// </summary>
public sealed class PaymentTelemetry : IDisposable
{
    public const string Name = "Payment.Api";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _settled;
    private readonly Counter<long> _gatewayCalls;
    private readonly Counter<long> _circuitOpened;

    public PaymentTelemetry(IMeterFactory meters, CircuitBreakerStateProvider circuit)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(circuit);
        _meter = meters.Create(Name);
        _settled = _meter.CreateCounter<long>("shop.payment.settled", description: "Charges and refunds settled, by kind and status.");
        _gatewayCalls = _meter.CreateCounter<long>("shop.payment.gateway.calls", description: "Calls to the payment gateway (with their retries), by outcome.");
        _circuitOpened = _meter.CreateCounter<long>("shop.payment.gateway.circuit_opened", description: "Times the circuit to the payment gateway opened.");
        _meter.CreateObservableGauge("shop.payment.gateway.circuit_state",
            () => (int)StateOf(circuit),
            description: "The circuit to the payment gateway: 0 closed, 1 open, 2 half-open, 3 isolated.");
    }

    /// <summary>The circuit's state; closed until the pipeline is built by the first gateway call.</summary>
    public static CircuitState StateOf(CircuitBreakerStateProvider circuit)
    {
        ArgumentNullException.ThrowIfNull(circuit);
        try
        {
            return circuit.CircuitState;
        }
        catch (InvalidOperationException)
        {
            return CircuitState.Closed;
        }
    }

    public void Settled(string kind, string status) =>
        _settled.Add(1, new KeyValuePair<string, object?>("shop.payment.kind", kind), new KeyValuePair<string, object?>("shop.payment.status", status));

    /// <param name="outcome">answered, unavailable, circuit_open or rejected.</param>
    public void GatewayCall(string outcome) => _gatewayCalls.Add(1, new KeyValuePair<string, object?>("shop.payment.gateway.outcome", outcome));

    public void CircuitOpened() => _circuitOpened.Add(1);

    public void Dispose() => _meter.Dispose();
}
