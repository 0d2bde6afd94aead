using System.Collections.Concurrent;
using System.Diagnostics;
using Shop.EventBus;

namespace LedgerService;

/// <summary>What a test needs to see inside the handlers, and the failures it makes them have.</summary>
public sealed class LedgerProbe
{
    private readonly ConcurrentDictionary<Guid, int> _transientFailures = new();
    private readonly ConcurrentDictionary<(Guid, string), bool> _poisoned = new();

    /// <summary>Recorded in receipts, to tell consumer instances apart.</summary>
    public string Name { get; init; } = "ledger";

    /// <summary>Handler runs per event and handler, failed ones included.</summary>
    public ConcurrentDictionary<(Guid EventId, string Handler), int> Attempts { get; } = new();

    /// <summary>When each event's handlers last ran (stopwatch timestamp), to measure latency.</summary>
    public ConcurrentDictionary<Guid, long> HandledAt { get; } = new();

    /// <summary>The activity each event's handlers ran in.</summary>
    public ConcurrentDictionary<Guid, Activity?> Activities { get; } = new();

    /// <summary>The next <paramref name="times"/> runs of the event's handler fail with a timeout.</summary>
    public void FailTransiently(Guid eventId, int times) => _transientFailures[eventId] = times;

    /// <summary>Every run of that handler for the event fails until <see cref="Cure"/>.</summary>
    public void Poison(Guid eventId, string handler) => _poisoned[(eventId, handler)] = true;

    public void Cure(Guid eventId, string handler) => _poisoned.TryRemove((eventId, handler), out _);

    public void Handling(string handler, IntegrationEvent @event)
    {
        Attempts.AddOrUpdate((@event.Id, handler), 1, (_, n) => n + 1);
        Activities[@event.Id] = Activity.Current;
        HandledAt[@event.Id] = Stopwatch.GetTimestamp();
        if (_poisoned.ContainsKey((@event.Id, handler)))
        {
            throw new InvalidOperationException($"Event {@event.Id} cannot be handled: the account is frozen.");
        }

        if (handler == nameof(OrderPlacedHandler)
            && _transientFailures.TryGetValue(@event.Id, out var left) && left > 0
            && _transientFailures.TryUpdate(@event.Id, left - 1, left))
        {
            throw new TimeoutException($"The ledger timed out handling {@event.Id}.");
        }
    }
}
