using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using StackExchange.Redis;

namespace Shop.Web.Authentication;

/// <summary>
/// The storefront's sign-in sessions, in Redis beside the carts; the session cookie carries only a session's key. So
/// a session is one thing for all of a browser's tabs and for every replica: the tokens a page request refreshed are
/// the ones a live page's circuit sends next (it holds the request it was opened with, whose cookie never changes),
/// and signing out in one tab ends the session for the live pages of the others. A ticket holds the refresh token:
/// it is encrypted with Data Protection before it leaves the process.
/// </summary>
public sealed partial class RedisSessionStore(
    IConnectionMultiplexer redis,
    IDataProtectionProvider dataProtection,
    TimeProvider timeProvider,
    ILogger<RedisSessionStore> logger) : ITicketStore
{
    public const string KeyPrefix = "shop.web:session:";

    /// <summary>
    /// The session's key, as a claim of the signed-in user: a live page finds its session by it (the cookie handler
    /// keeps its own copy of the key on the cookie only).
    /// </summary>
    public const string SessionKeyClaimType = "shop.web:session";

    /// <summary>How long a session is kept when its ticket says nothing about its end.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(8);

    private int _unavailable;

    private readonly IDataProtector _protector = dataProtection.CreateProtector("Shop.Web.Authentication.RedisSessionStore");

    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, CancellationToken.None);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);

        // 128 random bits: the key alone finds the session, so it must not be guessable.
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        if (ticket.Principal.Identity is ClaimsIdentity identity)
        {
            foreach (var stale in identity.FindAll(SessionKeyClaimType).ToList())
            {
                identity.RemoveClaim(stale);
            }

            identity.AddClaim(new Claim(SessionKeyClaimType, key));
        }

        await WriteAsync(key, ticket);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, CancellationToken.None);

    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(ticket);
        return WriteAsync(key, ticket);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    /// <summary>
    /// The session, or null when there is none: signed out, expired, or not readable (Redis not answering, or a
    /// ticket protected with a key this storefront does not have). Null makes the request anonymous rather than
    /// failed: the pages ask to sign in, as they do for a visitor.
    /// </summary>
    public async Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);

        RedisValue stored;
        try
        {
            stored = await redis.GetDatabase().StringGetAsync(KeyPrefix + key);
        }
        catch (RedisException exception)
        {
            // Every signed-in request fails alike while Redis is away: one warning for the outage, not one each.
            if (Interlocked.Exchange(ref _unavailable, 1) == 0)
            {
                LogUnavailable(logger, exception);
            }

            return null;
        }

        if (Interlocked.Exchange(ref _unavailable, 0) == 1)
        {
            LogAvailableAgain(logger);
        }

        if (stored.IsNull)
        {
            return null;
        }

        try
        {
            return TicketSerializer.Default.Deserialize(_protector.Unprotect((byte[])stored!));
        }
        catch (CryptographicException exception)
        {
            LogUnreadable(logger, exception);
            return null;
        }
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, CancellationToken.None);

    public Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return redis.GetDatabase().KeyDeleteAsync(KeyPrefix + key);
    }

    /// <exception cref="RedisException">Redis did not take it: the sign-in (or the refresh) fails rather than
    /// giving a cookie for a session that does not exist.</exception>
    private Task WriteAsync(string key, AuthenticationTicket ticket)
    {
        var lifetime = ticket.Properties.ExpiresUtc is { } expires ? expires - timeProvider.GetUtcNow() : DefaultLifetime;
        var protectedTicket = _protector.Protect(TicketSerializer.Default.Serialize(ticket));
        return redis.GetDatabase().StringSetAsync(KeyPrefix + key, protectedTicket, lifetime > TimeSpan.FromSeconds(1) ? lifetime : TimeSpan.FromSeconds(1));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The sign-in sessions in Redis could not be read; signed-in users are treated as visitors until Redis answers")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The sign-in sessions in Redis can be read again")]
    private static partial void LogAvailableAgain(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sign-in session in Redis could not be decrypted (protected with a key this storefront does not have); its user must sign in again")]
    private static partial void LogUnreadable(ILogger logger, Exception exception);
}
