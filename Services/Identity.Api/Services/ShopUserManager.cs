using Identity.Api.Model;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Identity.Api.Services;

/// <summary>
/// Identity's user manager, forgetting an account's failed sign-ins <see cref="UnknownAddressLockout.Memory"/> after the
/// last one, as an address without an account is forgotten. Identity keeps the count until a success or a lockout, so
/// failing a few times, waiting a day and failing again would lock an account and not an address without one.
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
    TimeProvider timeProvider)
    : UserManager<ApplicationUser>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
{
    public override async Task<IdentityResult> AccessFailedAsync(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);

        // The time goes into the row with the count, in Identity's one update guarded by the concurrency stamp: a
        // replica that read the account before another failure was counted cannot write an older count or time over it.
        var now = timeProvider.GetUtcNow();
        if (user.LastAccessFailedAt < now - UnknownAddressLockout.Memory)
        {
            await ((IUserLockoutStore<ApplicationUser>)Store).ResetAccessFailedCountAsync(user, CancellationToken);
        }
        user.LastAccessFailedAt = now;

        return await base.AccessFailedAsync(user);
    }
}
