using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace PaymentGateway.Simulator.Ledger;

/// <summary>Section <c>Simulator</c>: the keys and the behaviour the gateway starts with (the AppHost's parameters).</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>The merchant's secret key: <c>Authorization: Bearer …</c> on the charge and refund API.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The operator's key: <c>X-Admin-Key</c> on the admin API (behaviour switches, ledger, statistics).</summary>
    public string AdminKey { get; set; } = "";

    /// <summary>Added to every call before it is answered.</summary>
    public int LatencyMs { get; set; } = 25;

    /// <summary>Share of new charges declined (0–1).</summary>
    public double DeclineRate { get; set; }

    /// <summary>Share of calls answered 503 without doing anything (0–1).</summary>
    public double FailureRate { get; set; }

    public Behavior Behavior => new(LatencyMs, DeclineRate, FailureRate);
}

/// <summary>How the simulated gateway behaves right now.</summary>
public sealed record Behavior(int LatencyMs, double DeclineRate, double FailureRate)
{
    public bool IsValid([NotNullWhen(false)] out string? problem)
    {
        problem = LatencyMs is < 0 or > 60_000 ? "latencyMs must be between 0 and 60000."
            : DeclineRate is < 0 or > 1 or double.NaN ? "declineRate must be between 0 and 1."
            : FailureRate is < 0 or > 1 or double.NaN ? "failureRate must be between 0 and 1."
            : null;
        return problem is null;
    }
}

/// <summary>The current <see cref="Behavior"/>: the configured one until an operator changes it at run time.</summary>
public sealed class SimulatorBehavior(IOptions<SimulatorOptions> options)
{
    private Behavior _current = options.Value.Behavior;

    public Behavior Current => Volatile.Read(ref _current);

    public void Set(Behavior behavior) => Volatile.Write(ref _current, behavior);

    public Behavior Reset()
    {
        Set(options.Value.Behavior);
        return Current;
    }
}
