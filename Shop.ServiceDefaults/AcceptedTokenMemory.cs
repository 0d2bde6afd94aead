using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Memory;

namespace Shop.ServiceDefaults;

/// <summary>
/// What was learned from checking bearer tokens, remembered by the token's exact text for at most
/// <see cref="MaxRememberTime"/> and never past the time given with it (the token's expiry). Its users remember accepted
/// tokens (the gateway also expired ones, as anonymous), so a changed or otherwise refused token is always checked in
/// full. The price: a signing key withdrawn from the issuer's key set still covers the tokens remembered in the last
/// minute.
/// </summary>
public sealed class AcceptedTokenMemory<TValue>(TimeProvider timeProvider) : IDisposable
    where TValue : class
{
    public static readonly TimeSpan MaxRememberTime = TimeSpan.FromMinutes(1);

    /// <summary>Tokens remembered at once; past it, new ones are checked in full each time until old ones expire.</summary>
    public const int Capacity = 10_000;

    private readonly MemoryCache _accepted = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public bool TryGet(string? token, [NotNullWhen(true)] out TValue? value)
    {
        if (token is not null && _accepted.TryGetValue(token, out Entry? entry) && entry!.Until > timeProvider.GetUtcNow())
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
        if (until > now)
        {
            _accepted.Set(token, new Entry(value, until), new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
        }
    }

    public void Dispose() => _accepted.Dispose();

    private sealed record Entry(TValue Value, DateTimeOffset Until);
}
