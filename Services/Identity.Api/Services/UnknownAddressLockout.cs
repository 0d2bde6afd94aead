using System.Buffers.Text;
using System.Text;
using Identity.Api.Configuration;
using Identity.Api.Infrastructure;
using Identity.Api.Keys;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Api.Services;

/// <summary>
/// Counts the failed sign-ins of addresses that have no account and locks them out as Identity locks an account: after
/// <see cref="LockoutOptions.MaxFailedAccessAttempts"/> failures, for <see cref="LockoutOptions.DefaultLockoutTimeSpan"/>.
/// Otherwise "locked out" after a few tries would tell which addresses have an account. The counts are in identitydb,
/// so every replica counts and answers alike, and only a keyed hash of each address is stored
/// (<see cref="KeyEncryptionKey.ForUnknownAddresses"/>). An address is forgotten <see cref="Memory"/> after its last
/// failure, so addresses tried once each cannot fill the table.
/// </summary>
public sealed class UnknownAddressLockout(
    ApplicationDbContext db,
    IOptions<IdentityOptions> identityOptions,
    IOptions<IdentityServerSettings> settings,
    TimeProvider timeProvider)
{
    /// <summary>
    /// How long after its last failure an address without an account is forgotten (much longer than a lockout); an
    /// account's failures are forgotten as long after the last one (<see cref="ShopUserManager"/>).
    /// </summary>
    public static readonly TimeSpan Memory = TimeSpan.FromDays(1);

    private readonly KeyEncryptionKey _key = KeyEncryptionKey.ForUnknownAddresses(settings.Value);

    /// <summary>When the lockout of <paramref name="normalizedAddress"/> ends; null when it is not locked out.</summary>
    public async Task<DateTimeOffset?> GetLockoutEndAsync(string normalizedAddress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalizedAddress);

        var hash = Hash(normalizedAddress);
        var now = timeProvider.GetUtcNow();
        return await db.UnknownAddressFailures.AsNoTracking()
            .Where(f => f.AddressHash == hash && f.LockoutEnd > now)
            .Select(f => f.LockoutEnd)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Counts a failed sign-in of <paramref name="normalizedAddress"/>.</summary>
    /// <returns>
    /// Whether the address is locked out now: by this failure, as Identity's <c>AccessFailedAsync</c> locks an account,
    /// or by another that reached the limit while this one was checked.
    /// </returns>
    public async Task<bool> RecordFailureAsync(string normalizedAddress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalizedAddress);

        var hash = Hash(normalizedAddress);
        var now = timeProvider.GetUtcNow();
        var forgetBefore = now - Memory;
        var lockout = identityOptions.Value.Lockout;
        var lockoutEnd = now + lockout.DefaultLockoutTimeSpan;

        // One statement, so failures at several replicas at the same moment all count, and one round trip, like the one
        // that counts an account's failure (ShopUserManager, which follows the same rules). The failure that reaches the
        // limit locks the address and counting starts again from zero; a failure that arrives while it is locked (checked
        // before the lockout began) does not count towards the next one, and is answered "locked" as an account's is. It
        // also deletes the forgotten rows of other addresses; this address's own row, forgotten or not, is left to the
        // insert, which starts counting again if it was.
        const string Locked = """f."LockoutEnd" > {1}""";
        const string Counted = """CASE WHEN f."LastFailureAt" < {2} THEN 1 ELSE f."FailedCount" + 1 END""";
        var stored = (await db.Database.SqlQueryRaw<StoredFailure>(
            $$"""
            WITH forgotten AS (
                DELETE FROM "UnknownAddressFailures"
                WHERE "LastFailureAt" < {2} AND ("LockoutEnd" IS NULL OR "LockoutEnd" < {1}) AND "AddressHash" <> {0})
            INSERT INTO "UnknownAddressFailures" AS f ("AddressHash", "FailedCount", "LastFailureAt", "LockoutEnd")
            VALUES ({0}, CASE WHEN 1 >= {3} THEN 0 ELSE 1 END, {1}, CASE WHEN 1 >= {3} THEN {4} END)
            ON CONFLICT ("AddressHash") DO UPDATE SET
                "FailedCount" = CASE WHEN {{Locked}} THEN f."FailedCount" WHEN {{Counted}} >= {3} THEN 0 ELSE {{Counted}} END,
                "LockoutEnd" = CASE WHEN {{Locked}} THEN f."LockoutEnd" WHEN {{Counted}} >= {3} THEN {4} ELSE f."LockoutEnd" END,
                "LastFailureAt" = CASE WHEN {{Locked}} THEN f."LastFailureAt" ELSE {1} END
            RETURNING "LockoutEnd"
            """,
            hash, now, forgetBefore, lockout.MaxFailedAccessAttempts, lockoutEnd).ToListAsync(cancellationToken)).Single();
        return stored.LockoutEnd > now;
    }

    private sealed record StoredFailure(DateTimeOffset? LockoutEnd);

    private string Hash(string normalizedAddress) => Base64Url.EncodeToString(_key.Hash(Encoding.UTF8.GetBytes(normalizedAddress)));
}
