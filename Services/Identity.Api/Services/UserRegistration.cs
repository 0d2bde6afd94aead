using Identity.Api.Model;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Shop.ServiceDefaults;

namespace Identity.Api.Services;

/// <summary>The outcome of a registration: the new user, or every reason it was refused, by request field.</summary>
public sealed record RegistrationResult(ApplicationUser? User, Dictionary<string, string[]> Errors)
{
    public bool Succeeded => User is not null;
}

/// <summary>
/// Registers customers with Identity's e-mail and password rules; shared by the registration API and page, so both
/// refuse the same things with the same messages.
/// </summary>
public sealed class UserRegistration(UserManager<ApplicationUser> users)
{
    public const int MaxEmailLength = 256;

    public async Task<RegistrationResult> RegisterAsync(RegisterUserRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        var email = UnicodeLookupNormalizer.Compose(request.Email?.Trim() ?? string.Empty);
        var user = new ApplicationUser { UserName = email, Email = email, Name = request.Name?.Trim() ?? string.Empty };

        var errors = await ValidateAsync(request, user);
        if (errors.Count > 0)
        {
            return new RegistrationResult(null, errors);
        }

        IdentityResult result;
        try
        {
            result = await users.CreateAsync(user, request.Password!);
        }
        catch (DbUpdateException exception) when (exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Two registrations of one address at the same moment both pass the uniqueness check; the
            // database's unique index on the user name lets only one of them in.
            result = IdentityResult.Failed(users.ErrorDescriber.DuplicateEmail(email));
        }

        if (result.Succeeded)
        {
            result = await users.AddToRoleAsync(user, ShopRoles.Customer);
        }

        return result.Succeeded
            ? new RegistrationResult(user, [])
            : new RegistrationResult(null, ToValidationErrors(result.Errors));
    }

    /// <summary>
    /// Groups Identity's errors under the request field they are about. The user name is the e-mail
    /// address, so user-name errors are reported on <c>email</c> unless an e-mail error already says the same.
    /// </summary>
    internal static Dictionary<string, string[]> ToValidationErrors(IEnumerable<IdentityError> identityErrors)
    {
        var errors = identityErrors.ToList();
        var hasEmailError = errors.Any(e => e.Code.Contains("Email", StringComparison.Ordinal));

        return errors
            .Where(e => !(hasEmailError && e.Code.Contains("UserName", StringComparison.Ordinal)))
            .GroupBy(e => e.Code switch
            {
                _ when e.Code.StartsWith("Password", StringComparison.Ordinal) => "password",
                _ when e.Code.Contains("Email", StringComparison.Ordinal) => "email",
                _ when e.Code.Contains("UserName", StringComparison.Ordinal) => "email",
                _ => "user",
            })
            .ToDictionary(g => g.Key, g => g.Select(e => e.Description).Distinct().ToArray());
    }

    /// <summary>
    /// Every reason the registration would fail, all at once: missing fields, and Identity's own e-mail and
    /// password rules for the fields that are there.
    /// </summary>
    private async Task<Dictionary<string, string[]>> ValidateAsync(RegisterUserRequest request, ApplicationUser user)
    {
        var identityErrors = new List<IdentityError>();
        // A malformed address is reported once, below; Identity's rules (taken or not) are for well-formed ones.
        if (EmailAddressFormat.IsWellFormed(user.Email!))
        {
            foreach (var validator in users.UserValidators)
            {
                identityErrors.AddRange((await validator.ValidateAsync(users, user)).Errors);
            }
        }

        if (!string.IsNullOrEmpty(request.Password))
        {
            foreach (var validator in users.PasswordValidators)
            {
                identityErrors.AddRange((await validator.ValidateAsync(users, user, request.Password)).Errors);
            }
        }

        var errors = ToValidationErrors(identityErrors);
        foreach (var (field, messages) in ValidateFields(request))
        {
            errors[field] = errors.TryGetValue(field, out var existing) ? [.. messages, .. existing] : messages;
        }

        return errors;
    }

    internal static Dictionary<string, string[]> ValidateFields(RegisterUserRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email))
        {
            errors["email"] = ["An e-mail address is required."];
        }
        else if (request.Email.Trim().Length > MaxEmailLength)
        {
            errors["email"] = [$"The e-mail address can have at most {MaxEmailLength} characters."];
        }
        else if (!EmailAddressFormat.IsWellFormed(request.Email.Trim()))
        {
            errors["email"] = ["The e-mail address is not valid: it should look like ada@example.com."];
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            errors["password"] = ["A password is required."];
        }

        if (VisibleText.IsBlank(request.Name))
        {
            errors["name"] = ["A name is required."];
        }
        else if (request.Name.Trim().Length > ApplicationUser.MaxNameLength)
        {
            errors["name"] = [$"The name can have at most {ApplicationUser.MaxNameLength} characters."];
        }

        return errors;
    }
}
