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

    /// <summary>Counts a failed sign-in of <paramref name="normalizedAddress"/>, which is not locked out.</summary>
    /// <returns>Whether this failure locked it out, as Identity's <c>AccessFailedAsync</c> does for an account.</returns>
    public async Task<bool> RecordFailureAsync(string normalizedAddress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(normalizedAddress);

        var hash = Hash(normalizedAddress);
        var now = timeProvider.GetUtcNow();
        var forgetBefore = now - Memory;
        var lockout = identityOptions.Value.Lockout;

        // One statement, so failures at several replicas at the same moment all count, and one round trip, like the one
        // that counts an account's failure. It also deletes the forgotten rows of other addresses; this address's own
        // row, forgotten or not, is left to the insert, which starts counting again if it was.
        var failures = (await db.Database.SqlQuery<int>($"""
            WITH forgotten AS (
                DELETE FROM "UnknownAddressFailures"
                WHERE "LastFailureAt" < {forgetBefore} AND ("LockoutEnd" IS NULL OR "LockoutEnd" < {now}) AND "AddressHash" <> {hash})
            INSERT INTO "UnknownAddressFailures" AS f ("AddressHash", "FailedCount", "LastFailureAt") VALUES ({hash}, 1, {now})
            ON CONFLICT ("AddressHash") DO UPDATE SET
                "FailedCount" = CASE WHEN f."LastFailureAt" < {forgetBefore} THEN 1 ELSE f."FailedCount" + 1 END,
                "LastFailureAt" = {now}
            RETURNING "FailedCount" AS "Value"
            """).ToListAsync(cancellationToken)).Single();
        if (failures < lockout.MaxFailedAccessAttempts)
        {
            return false;
        }

        // As Identity does for an account: locked, and counting starts again from zero.
        await db.Database.ExecuteSqlAsync($"""
            UPDATE "UnknownAddressFailures" SET "FailedCount" = 0, "LockoutEnd" = {now + lockout.DefaultLockoutTimeSpan}
            WHERE "AddressHash" = {hash}
            """, cancellationToken);
        return true;
    }

    private string Hash(string normalizedAddress) => Base64Url.EncodeToString(_key.Hash(Encoding.UTF8.GetBytes(normalizedAddress)));
}
