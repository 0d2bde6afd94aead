namespace Identity.Api.Model;

public sealed record RegisterUserRequest(string? Email, string? Password, string? Name);

public sealed record UserResponse(string Id, string Email, string Name);

public sealed record ShippingAddress(string? Street, string? City, string? PostalCode, string? Country);

public sealed record UserProfile(string Id, string Email, string Name, ShippingAddress? ShippingAddress)
{
    public static UserProfile From(ApplicationUser user)
    {
        ArgumentNullException.ThrowIfNull(user);

        var address = user.ShippingStreet is null
            ? null
            : new ShippingAddress(user.ShippingStreet, user.ShippingCity, user.ShippingPostalCode, user.ShippingCountry);
        return new UserProfile(user.Id, user.Email ?? string.Empty, user.Name, address);
    }
}

/// <summary>The whole editable profile: a missing shipping address clears it.</summary>
public sealed record UpdateProfileRequest(string? Name, ShippingAddress? ShippingAddress);
