using System.Collections.Concurrent;
using System.Diagnostics;
using Shop.EventBus;

namespace LedgerService;

/// <summary>What a test needs to see inside the handlers, and the failures it makes them have.</summary>
public sealed class LedgerProbe
{
    private readonly ConcurrentDictionary<Guid, int> _transientFailures = new();
    private readonly ConcurrentDictionary<(Guid, string), bool> _poisoned = new();
    private readonly ConcurrentDictionary<(Guid, string), bool> _unhandleable = new();
    private readonly ConcurrentDictionary<(Guid, string), bool> _unsavable = new();
    private readonly Lock _gate = new();
    private int _running;
    private int _mostAtOnce;

    /// <summary>Recorded in receipts, to tell consumer instances apart.</summary>
    public string Name { get; init; } = "ledger";

    /// <summary>Handler runs per event and handler, failed ones included.</summary>
    public ConcurrentDictionary<(Guid EventId, string Handler), int> Attempts { get; } = new();

    /// <summary>The activity each event's handlers ran in.</summary>
    public ConcurrentDictionary<Guid, Activity?> Activities { get; } = new();

    /// <summary>How long the crediting handler takes, to see handlers of different partitions run side by side.</summary>
    public TimeSpan CreditDelay { get; set; }

    /// <summary>The most crediting handlers that ran at the same time.</summary>
    public int MostAtOnce
    {
        get
        {
            lock (_gate)
            {
                return _mostAtOnce;
            }
        }
    }

    /// <summary>The next <paramref name="times"/> runs of the event's handler fail with a timeout.</summary>
    public void FailTransiently(Guid eventId, int times) => _transientFailures[eventId] = times;

    /// <summary>Every run of that handler for the event fails until <see cref="Cure"/>.</summary>
    public void Poison(Guid eventId, string handler) => _poisoned[(eventId, handler)] = true;

    public void Cure(Guid eventId, string handler) => _poisoned.TryRemove((eventId, handler), out _);

    /// <summary>That handler says no attempt can ever handle the event (<see cref="NonRetryableEventException"/>).</summary>
    public void MakeUnhandleable(Guid eventId, string handler) => _unhandleable[(eventId, handler)] = true;

    /// <summary>PostgreSQL refuses to save that handler's changes for the event (a value too long for its column).</summary>
    public void MakeUnsavable(Guid eventId, string handler) => _unsavable[(eventId, handler)] = true;

    /// <summary>The name a handler records in its receipt: too long for the column when the save is to fail.</summary>
    public string ConsumerName(Guid eventId, string handler) => _unsavable.ContainsKey((eventId, handler)) ? new string('x', 101) : Name;

    public async Task HandlingAsync(string handler, IntegrationEvent @event, CancellationToken cancellationToken)
    {
        Attempts.AddOrUpdate((@event.Id, handler), 1, (_, n) => n + 1);
        Activities[@event.Id] = Activity.Current;
        if (_poisoned.ContainsKey((@event.Id, handler)))
        {
            throw new InvalidOperationException($"Event {@event.Id} cannot be handled: the account is frozen.");
        }

        if (_unhandleable.ContainsKey((@event.Id, handler)))
        {
            throw new NonRetryableEventException($"Event {@event.Id} names an account the ledger does not have.");
        }

        if (handler != nameof(OrderPlacedHandler))
        {
            return;
        }

        if (_transientFailures.TryGetValue(@event.Id, out var left) && left > 0 && _transientFailures.TryUpdate(@event.Id, left - 1, left))
        {
            throw new TimeoutException($"The ledger timed out handling {@event.Id}.");
        }

        if (CreditDelay > TimeSpan.Zero)
        {
            lock (_gate)
            {
                _mostAtOnce = Math.Max(_mostAtOnce, ++_running);
            }

            try
            {
                await Task.Delay(CreditDelay, cancellationToken);
            }
            finally
            {
                lock (_gate)
                {
                    _running--;
                }
            }
        }
    }
}
