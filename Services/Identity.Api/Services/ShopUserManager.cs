using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Identity.Api.Services;

/// <summary>
/// Identity's user manager, counting an account's failed sign-ins as <see cref="UnknownAddressLockout"/> counts an
/// address without one: in one statement, and forgotten <see cref="UnknownAddressLockout.Memory"/> after the last one.
/// Identity reads the count, adds one and writes it back under the concurrency stamp, so of several failures at the same
/// moment only one counted (the others were concurrency failures, answered as a wrong password): a burst of guesses
/// went past the lockout, and answered differently from an address without an account, whose every failure counts.
/// Identity also keeps the count until a success or a lockout, so failing a few times, waiting a day and failing again
/// would lock an account and not an address without one.
/// </summary>
public sealed class ShopUserManager(
    IUserStore<ApplicationUser> store,
    IOptions<IdentityOptions> optionsAccessor,
    IPasswordHasher<ApplicationUser> passwordHasher,
    IEnumerable<IUserValidator<ApplicationUser>> userValidators,
    IEnumerable<IPasswordValidator<ApplicationUser>> passwordValidators,
    ILookupNormalizer keyNormalizer,
    IdentityErrorDescriber errors,
    IServiceProvider services,
    ILogger<UserManager<ApplicationUser>> logger,
    ApplicationDbContext db,
    TimeProvider timeProvider)
    : UserManager<ApplicationUser>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
{
    public override async Task<IdentityResult> AccessFailedAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        ThrowIfDisposed();

        var now = timeProvider.GetUtcNow();
        var forgetBefore = now - UnknownAddressLockout.Memory;
        var lockout = Options.Lockout;
        var lockoutEnd = now + lockout.DefaultLockoutTimeSpan;
        var stamp = Guid.NewGuid().ToString();

        // As Identity does: the failure that reaches the limit locks the account and counting starts again from zero.
        // Unlike Identity, a failure that arrives while the account is locked (its password was checked before another
        // request locked it) does not count towards the next lockout. The new concurrency stamp makes any update from
        // an earlier read of the account (a profile save) read it again rather than write an older count over this one.
        const string Locked = "\"LockoutEnd\" > {4}";
        const string Counted = """CASE WHEN "LastAccessFailedAt" < {1} THEN 1 ELSE "AccessFailedCount" + 1 END""";
        var rows = await db.Database.SqlQueryRaw<CountedFailure>(
            $$"""
            UPDATE "AspNetUsers" SET
                "AccessFailedCount" = CASE WHEN {{Locked}} THEN "AccessFailedCount" WHEN {{Counted}} >= {2} THEN 0 ELSE {{Counted}} END,
                "LockoutEnd" = CASE WHEN {{Locked}} THEN "LockoutEnd" WHEN {{Counted}} >= {2} THEN {3} ELSE "LockoutEnd" END,
                "LastAccessFailedAt" = CASE WHEN {{Locked}} THEN "LastAccessFailedAt" ELSE {4} END,
                "ConcurrencyStamp" = {5}
            WHERE "Id" = {0}
            RETURNING "AccessFailedCount", "LockoutEnd", "LastAccessFailedAt"
            """,
            user.Id, forgetBefore, lockout.MaxFailedAccessAttempts, lockoutEnd, now, stamp).ToListAsync(CancellationToken);
        if (rows is not [var counted])
        {
            return IdentityResult.Failed(ErrorDescriber.ConcurrencyFailure());
        }

        // The account in hand, and what this scope's change tracker knows of it, are as stored now.
        var entry = db.Entry(user);
        Set(entry, nameof(ApplicationUser.AccessFailedCount), counted.AccessFailedCount);
        Set(entry, nameof(ApplicationUser.LockoutEnd), counted.LockoutEnd);
        Set(entry, nameof(ApplicationUser.LastAccessFailedAt), counted.LastAccessFailedAt);
        Set(entry, nameof(ApplicationUser.ConcurrencyStamp), stamp);
        return IdentityResult.Success;
    }

    private static void Set<T>(Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry<ApplicationUser> entry, string property, T value)
    {
        var field = entry.Property(property);
        field.CurrentValue = value;
        if (entry.State != EntityState.Detached)
        {
            field.OriginalValue = value;
        }
    }

    private sealed record CountedFailure(int AccessFailedCount, DateTimeOffset? LockoutEnd, DateTimeOffset? LastAccessFailedAt);
}
