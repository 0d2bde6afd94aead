using Microsoft.AspNetCore.Identity;

namespace Identity.Api.Model;

/// <summary>A shop user; the e-mail address is also the Identity user name.</summary>
public class ApplicationUser : IdentityUser
{
    public const int MaxNameLength = 100;

    public required string Name { get; set; }
}
