using System.Collections.Concurrent;

namespace PaymentGateway.Simulator.Ledger;

/// <summary>A transaction the gateway made: what would appear on the merchant's statement.</summary>
public sealed record LedgerEntry(
    string Id,
    string Type,
    string Status,
    decimal Amount,
    string Currency,
    string Reference,
    string? ChargeId,
    string? DeclineCode,
    string IdempotencyKey,
    DateTimeOffset Created);

/// <summary>What a request with an <c>Idempotency-Key</c> was answered, replayed for every later request with that key.</summary>
public sealed record IdempotentResponse(string Fingerprint, int StatusCode, object Body);

public sealed record LedgerStatistics(long Requests, long SimulatedFailures, long Replays, long Lookups, long Charges, long Declines, long Refunds);

/// <summary>What the gateway knows of a charge's idempotency key.</summary>
public enum ChargeLookup
{
    /// <summary>No charge was made under the key and no request with it is being processed.</summary>
    NotFound,

    /// <summary>A request with the key has arrived and is not answered yet: it may still charge.</summary>
    InProgress,

    Found,
}

/// <summary>
/// The gateway's books, in memory: transactions in the order they were made, and the response given for each
/// idempotency key. A key is settled once: concurrent requests with it wait for the same outcome, later ones get it
/// replayed; the same key with different parameters is refused (422), as real gateways do.
/// </summary>
public sealed class PaymentLedger
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IdempotentResponse>>> _responses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _arrived = new(StringComparer.Ordinal);
    private readonly List<LedgerEntry> _entries = [];
    private readonly Lock _entriesLock = new();
    private long _requests;
    private long _simulatedFailures;
    private long _replays;
    private long _lookups;
    private long _charges;
    private long _declines;
    private long _refunds;

    public LedgerStatistics Statistics => new(
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _simulatedFailures),
        Interlocked.Read(ref _replays),
        Interlocked.Read(ref _lookups),
        Interlocked.Read(ref _charges),
        Interlocked.Read(ref _declines),
        Interlocked.Read(ref _refunds));

    public void CountRequest() => Interlocked.Increment(ref _requests);

    public void CountSimulatedFailure() => Interlocked.Increment(ref _simulatedFailures);

    /// <summary>
    /// Notes that a request with <paramref name="idempotencyKey"/> has arrived, until the returned scope is disposed
    /// (answered, or failed): while it is open, <see cref="LookUpCharge"/> answers <see cref="ChargeLookup.InProgress"/>.
    /// </summary>
    public IDisposable Arrive(string idempotencyKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        _arrived.AddOrUpdate(idempotencyKey, 1, (_, count) => count + 1);
        return new Arrival(this, idempotencyKey);
    }

    /// <summary>The charge made under <paramref name="idempotencyKey"/>, or whether one may still be made.</summary>
    public (ChargeLookup Outcome, LedgerEntry? Charge) LookUpCharge(string idempotencyKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        Interlocked.Increment(ref _lookups);
        // Read before the entries: a request that ends between the two reads has recorded its charge first.
        var inProgress = _arrived.ContainsKey(idempotencyKey);
        LedgerEntry? charge;
        lock (_entriesLock)
        {
            charge = _entries.FirstOrDefault(e => e.Type == "charge" && e.IdempotencyKey == idempotencyKey);
        }

        var outcome = charge is not null ? ChargeLookup.Found : inProgress ? ChargeLookup.InProgress : ChargeLookup.NotFound;
        return (outcome, charge);
    }

    /// <summary>
    /// The response for <paramref name="idempotencyKey"/>: <paramref name="settle"/>'s, run once for the key; the
    /// stored one when the key was settled before (<paramref name="replayed"/>).
    /// </summary>
    public async Task<(IdempotentResponse Response, bool Replayed)> SettleOnceAsync(string idempotencyKey, Func<Task<IdempotentResponse>> settle)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentNullException.ThrowIfNull(settle);

        var mine = new Lazy<Task<IdempotentResponse>>(settle);
        var stored = _responses.GetOrAdd(idempotencyKey, mine);
        try
        {
            var response = await stored.Value;
            var replayed = !ReferenceEquals(stored, mine);
            if (replayed)
            {
                Interlocked.Increment(ref _replays);
            }

            return (response, replayed);
        }
        catch
        {
            // A failure settles nothing: the next request with the key tries again.
            _responses.TryRemove(new KeyValuePair<string, Lazy<Task<IdempotentResponse>>>(idempotencyKey, stored));
            throw;
        }
    }

    /// <summary>Records a charge, succeeded or declined.</summary>
    public LedgerEntry RecordCharge(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_entriesLock)
        {
            _entries.Add(entry);
        }

        Interlocked.Increment(ref entry.Status == "succeeded" ? ref _charges : ref _declines);
        return entry;
    }

    public LedgerEntry? Find(string id)
    {
        lock (_entriesLock)
        {
            return _entries.FirstOrDefault(e => e.Id == id);
        }
    }

    /// <summary>Records <paramref name="refund"/> unless it would give back more than <paramref name="chargeAmount"/> in all.</summary>
    public bool TryRecordRefund(LedgerEntry refund, decimal chargeAmount)
    {
        ArgumentNullException.ThrowIfNull(refund);
        lock (_entriesLock)
        {
            var refunded = _entries.Where(e => e.Type == "refund" && e.ChargeId == refund.ChargeId).Sum(e => e.Amount);
            if (refunded + refund.Amount > chargeAmount)
            {
                return false;
            }

            _entries.Add(refund);
        }

        Interlocked.Increment(ref _refunds);
        return true;
    }

    private void Leave(string idempotencyKey)
    {
        while (_arrived.TryGetValue(idempotencyKey, out var count))
        {
            if (count == 1 ? _arrived.TryRemove(new KeyValuePair<string, int>(idempotencyKey, 1)) : _arrived.TryUpdate(idempotencyKey, count - 1, count))
            {
                return;
            }
        }
    }

    public List<LedgerEntry> Query(string? reference, string? type)
    {
        lock (_entriesLock)
        {
            return [.. _entries.Where(e => (reference is null || e.Reference == reference) && (type is null || e.Type == type))];
        }
    }

    private sealed class Arrival(PaymentLedger ledger, string idempotencyKey) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                ledger.Leave(idempotencyKey);
            }
        }
    }
}
