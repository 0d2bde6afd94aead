using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Shop.ServiceDefaults;

/// <summary>
/// What was learned from checking bearer tokens, remembered by the token's exact text for at most
/// <see cref="MaxRememberTime"/> and never past the time given with it (the token's expiry). Its users remember accepted
/// tokens (the gateway also expired ones, as anonymous), so a changed or otherwise refused token is always checked in
/// full. The price: a signing key withdrawn from the issuer's key set still covers the tokens remembered in the last
/// minute.
/// <para>
/// A look-up is on the path of every authenticated request, so it is kept to one dictionary probe and one clock read.
/// The dictionary hashes only a token's last <see cref="HashedTailLength"/> characters, the tail of its signature:
/// hashing the whole kilobyte of an access token (and <c>MemoryCache</c>'s own bookkeeping) was most of what a
/// remembered token still cost the gateway. Equality still compares every character. Only tokens a signature check
/// accepted are ever stored, so nobody can choose tails that collide.
/// </para>
/// </summary>
public sealed class AcceptedTokenMemory<TValue>(TimeProvider timeProvider)
    where TValue : class
{
    public static readonly TimeSpan MaxRememberTime = TimeSpan.FromMinutes(1);

    /// <summary>Tokens remembered at once; past it, new ones are checked in full each time until old ones expire.</summary>
    public const int Capacity = 10_000;

    /// <summary>An RS256 signature is 342 base64url characters of random bytes; 64 of them tell tokens apart.</summary>
    public const int HashedTailLength = 64;

    private readonly ConcurrentDictionary<string, Entry> _remembered = new(SignatureTailComparer.Instance);
    private readonly Lock _sweepLock = new();
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    public bool TryGet(string? token, [NotNullWhen(true)] out TValue? value)
    {
        if (token is not null && _remembered.TryGetValue(token, out var entry) && entry.Until > timeProvider.GetUtcNow())
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Remembers <paramref name="value"/> for <paramref name="token"/> until <paramref name="expires"/> or for
    /// <see cref="MaxRememberTime"/>, whichever ends first.
    /// </summary>
    public void Remember(string token, TValue value, DateTimeOffset expires)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(value);

        var now = timeProvider.GetUtcNow();
        var until = expires < now + MaxRememberTime ? expires : now + MaxRememberTime;
        if (until <= now)
        {
            return;
        }

        SweepIfDue(now);
        // Count takes every lock of the dictionary; this runs once per new token a minute, not per request.
        if (_remembered.ContainsKey(token) || _remembered.Count < Capacity)
        {
            _remembered[token] = new Entry(value, until);
        }
    }

    /// <summary>Drops what has expired, at most once per <see cref="MaxRememberTime"/>, on the (rare) remembering path.</summary>
    private void SweepIfDue(DateTimeOffset now)
    {
        lock (_sweepLock)
        {
            if (now < _nextSweep)
            {
                return;
            }

            _nextSweep = now + MaxRememberTime;
        }

        foreach (var (token, entry) in _remembered)
        {
            if (entry.Until <= now)
            {
                _remembered.TryRemove(new KeyValuePair<string, Entry>(token, entry));
            }
        }
    }

    private sealed record Entry(TValue Value, DateTimeOffset Until);

    private sealed class SignatureTailComparer : IEqualityComparer<string>
    {
        public static readonly SignatureTailComparer Instance = new();

        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        // string.GetHashCode of a span is randomized per process, like the string's own.
        public int GetHashCode(string token) =>
            string.GetHashCode(token.AsSpan(Math.Max(0, token.Length - HashedTailLength)));
    }
}
