using Microsoft.AspNetCore.Identity;

namespace Identity.Api.Model;

/// <summary>A shop user; the e-mail address is also the Identity user name.</summary>
public class ApplicationUser : IdentityUser
{
    public const int MaxNameLength = 100;
    public const int MaxAddressFieldLength = 200;

    public required string Name { get; set; }

    // The shipping address as plain columns: it is read and written whole, and never queried.
    public string? ShippingStreet { get; set; }

    public string? ShippingCity { get; set; }

    public string? ShippingPostalCode { get; set; }

    public string? ShippingCountry { get; set; }

    /// <summary>
    /// When <see cref="IdentityUser{TKey}.AccessFailedCount"/> was last counted up: the count is forgotten a while after
    /// it (<c>ShopUserManager</c>), as an address without an account is forgotten. Null when no failure was counted
    /// since the column was added.
    /// </summary>
    public DateTimeOffset? LastAccessFailedAt { get; set; }
}
