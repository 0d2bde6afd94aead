using System.Security.Claims;
using Identity.Api.Infrastructure;
using Identity.Api.Model;
using Identity.Api.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Shop.ServiceDefaults;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Api.Apis;

public static class UsersApi
{
    /// <summary>A signed-in user, known by an access token whose audience is this API.</summary>
    public const string UserPolicy = "identity-api-user";

    /// <summary>An admin, known by an access token whose audience is this API.</summary>
    public const string AdminPolicy = "identity-api-admin";

    /// <summary>How many times a profile save is tried when other saves of the same user keep coming first.</summary>
    internal const int MaxProfileSaveAttempts = 8;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/identity").WithTags("Users");

        api.MapPost("/users", RegisterUser)
            .WithName("RegisterUser")
            .WithSummary("Register a user")
            .WithDescription("Creates a customer with the given e-mail address, password and name. The e-mail address must be unused and the password must meet the password rules.")
            .AllowAnonymous();

        api.MapGet("/users/me", GetMyProfile)
            .WithName("GetMyProfile")
            .WithSummary("Read the signed-in user's profile")
            .RequireAuthorization(UserPolicy);

        api.MapPut("/users/me", UpdateMyProfile)
            .WithName("UpdateMyProfile")
            .WithSummary("Edit the signed-in user's profile")
            .WithDescription("Replaces the name and the shipping address; a request without a shipping address clears it.")
            .RequireAuthorization(UserPolicy);

        api.MapGet("/users/{id}", GetUser)
            .WithName("GetUser")
            .WithSummary("Read a user's profile")
            .WithDescription("A user reads their own profile; admins read anyone's. Anybody else's id is answered as unknown.")
            .RequireAuthorization(UserPolicy);

        api.MapGet("/users", FindUserByEmail)
            .WithName("FindUserByEmail")
            .WithSummary("Find a user by e-mail address (admins only)")
            .RequireAuthorization(AdminPolicy);

        return app;
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem>> RegisterUser(
        RegisterUserRequest request,
        UserRegistration registration)
    {
        var result = await registration.RegisterAsync(request);
        return result.User is { } user
            ? TypedResults.Created($"/api/identity/users/{user.Id}", new UserResponse(user.Id, user.Email!, user.Name))
            : TypedResults.ValidationProblem(result.Errors);
    }

    public static async Task<Results<Ok<UserProfile>, NotFound>> GetMyProfile(ClaimsPrincipal principal, UserManager<ApplicationUser> users)
    {
        var user = await FindCallerAsync(principal, users);
        return user is null ? TypedResults.NotFound() : TypedResults.Ok(UserProfile.From(user));
    }

    /// <summary>
    /// The request replaces the whole profile, so the last save wins: when another save changed the user in between
    /// (a double click on Save), the user is read again and the change applied again. Only a save that keeps losing
    /// to others gets 409.
    /// </summary>
    public static async Task<Results<Ok<UserProfile>, ValidationProblem, NotFound, ProblemHttpResult>> UpdateMyProfile(
        UpdateProfileRequest request, ClaimsPrincipal principal, UserManager<ApplicationUser> users, ApplicationDbContext db)
    {
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var user = await FindCallerAsync(principal, users);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        for (var attempt = 1; ; attempt++)
        {
            Apply(request, user);
            var result = await users.UpdateAsync(user);
            if (result.Succeeded)
            {
                return TypedResults.Ok(UserProfile.From(user));
            }

            if (!result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            {
                return TypedResults.ValidationProblem(UserRegistration.ToValidationErrors(result.Errors));
            }

            if (attempt == MaxProfileSaveAttempts)
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "The profile is being changed elsewhere",
                    detail: "Other saves of this profile kept coming first. Read it again and retry.");
            }

            // A random pause, so that saves which collided do not collide again at once.
            await Task.Delay(Random.Shared.Next(5, 25) * attempt);
            await db.Entry(user).ReloadAsync();
            if (db.Entry(user).State == EntityState.Detached)
            {
                return TypedResults.NotFound();
            }
        }
    }

    private static void Apply(UpdateProfileRequest request, ApplicationUser user)
    {
        user.Name = request.Name!.Trim();
        var address = request.ShippingAddress;
        user.ShippingStreet = address?.Street?.Trim();
        user.ShippingCity = address?.City?.Trim();
        user.ShippingPostalCode = address?.PostalCode?.Trim();
        user.ShippingCountry = address?.Country?.Trim();
    }

    /// <summary>Another user's id gets the same 404 as an unknown one: the answer tells nothing about who exists.</summary>
    public static async Task<Results<Ok<UserProfile>, NotFound>> GetUser(string id, ClaimsPrincipal principal, UserManager<ApplicationUser> users)
    {
        var isSelf = string.Equals(id, principal.FindFirstValue(Claims.Subject), StringComparison.Ordinal);
        if (!isSelf && !principal.IsInRole(ShopRoles.Admin))
        {
            return TypedResults.NotFound();
        }

        var user = await users.FindByIdAsync(id);
        return user is null ? TypedResults.NotFound() : TypedResults.Ok(UserProfile.From(user));
    }

    public static async Task<Results<Ok<UserProfile>, ValidationProblem, NotFound>> FindUserByEmail(string? email, UserManager<ApplicationUser> users)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["email"] = ["The email query parameter is required, e.g. ?email=ada@example.com."],
            });
        }

        var user = await users.FindByEmailAsync(email.Trim());
        return user is null ? TypedResults.NotFound() : TypedResults.Ok(UserProfile.From(user));
    }

    /// <summary>The user the access token was issued to: its <c>sub</c>, never anything the request says.</summary>
    private static async Task<ApplicationUser?> FindCallerAsync(ClaimsPrincipal principal, UserManager<ApplicationUser> users) =>
        principal.FindFirstValue(Claims.Subject) is { Length: > 0 } id ? await users.FindByIdAsync(id) : null;

    internal static Dictionary<string, string[]> Validate(UpdateProfileRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (VisibleText.IsBlank(request.Name))
        {
            errors["name"] = ["A name is required."];
        }
        else if (request.Name.Trim().Length > ApplicationUser.MaxNameLength)
        {
            errors["name"] = [$"The name can have at most {ApplicationUser.MaxNameLength} characters."];
        }

        if (request.ShippingAddress is { } address)
        {
            CheckAddressField(errors, "shippingAddress.street", "street", address.Street);
            CheckAddressField(errors, "shippingAddress.city", "city", address.City);
            CheckAddressField(errors, "shippingAddress.postalCode", "postal code", address.PostalCode);
            CheckAddressField(errors, "shippingAddress.country", "country", address.Country);
        }

        return errors;
    }

    private static void CheckAddressField(Dictionary<string, string[]> errors, string field, string label, string? value)
    {
        if (VisibleText.IsBlank(value))
        {
            errors[field] = [$"The {label} is required in a shipping address."];
        }
        else if (value.Trim().Length > ApplicationUser.MaxAddressFieldLength)
        {
            errors[field] = [$"The {label} can have at most {ApplicationUser.MaxAddressFieldLength} characters."];
        }
    }
}
