using System.Security.Cryptography;
using Identity.Api.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Identity.Api.Services;

/// <summary>
/// Identity's sign-in, answering an address that has no account as it answers an account and a wrong password: the
/// password is hashed all the same (Identity answers at once, without hashing, which timing alone would tell apart),
/// and repeated failures lock the address out for as long, with the same answer (<see cref="UnknownAddressLockout"/>).
/// </summary>
public sealed class ShopSignInManager(
    UserManager<ApplicationUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<ApplicationUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<ApplicationUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<ApplicationUser> confirmation,
    UnknownAddressLockout unknownAddresses)
    : SignInManager<ApplicationUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    private static readonly ApplicationUser NoAccount = new() { Name = string.Empty };

    // A hash of a random password, made once with the configured hasher: checking a password against it costs what
    // checking an account's does.
    private static string? s_noAccountPasswordHash;

    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(password);

        var user = await UserManager.FindByNameAsync(userName);
        if (user is not null)
        {
            return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        }

        // In Identity's order: a locked-out account is refused before its password is checked.
        var address = UserManager.NormalizeName(userName);
        if (await unknownAddresses.GetLockoutEndAsync(address) is not null)
        {
            return SignInResult.LockedOut;
        }

        var hasher = UserManager.PasswordHasher;
        var hash = s_noAccountPasswordHash ??= hasher.HashPassword(NoAccount, Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        hasher.VerifyHashedPassword(NoAccount, hash, password);

        return lockoutOnFailure && await unknownAddresses.RecordFailureAsync(address) ? SignInResult.LockedOut : SignInResult.Failed;
    }

    /// <summary>When the lockout of <paramref name="userName"/> ends, whether it has an account or not; null when it is not locked out.</summary>
    public async Task<DateTimeOffset?> GetLockoutEndAsync(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);

        var user = await UserManager.FindByNameAsync(userName);
        if (user is null)
        {
            return await unknownAddresses.GetLockoutEndAsync(UserManager.NormalizeName(userName));
        }

        return await UserManager.IsLockedOutAsync(user) ? await UserManager.GetLockoutEndDateAsync(user) : null;
    }
}
