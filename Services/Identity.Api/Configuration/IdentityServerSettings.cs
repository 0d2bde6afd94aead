namespace Identity.Api.Configuration;

/// <summary>
/// The authorization server's settings, from the <c>Identity</c> section. The AppHost sets them through
/// environment variables (<c>Identity__Url</c>, <c>Identity__Clients__web__RedirectUris__0</c>, …), so the issuer
/// and the clients' URLs follow the ports of the current run.
/// </summary>
public sealed class IdentityServerSettings
{
    public const string SectionName = "Identity";

    /// <summary>
    /// The public URL of the authorization server, which is the issuer of every token: the gateway's URL, since
    /// browsers and API clients reach this service only through the gateway.
    /// </summary>
    public Uri? Url { get; set; }

    /// <summary>The client applications, by client id.</summary>
    public Dictionary<string, ClientRegistration> Clients { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>A new signing and encryption key is made once the newest one is this old.</summary>
    public TimeSpan KeyRotationAge { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// How long a replaced key is still published and accepted: longer than any token it signed or encrypted
    /// can live (refresh tokens included).
    /// </summary>
    public TimeSpan KeyRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Encrypts the private keys stored in identitydb; kept outside the database (the AppHost generates it as the secret
    /// parameter <c>identity-key-encryption-secret</c>). Keys stored with one secret cannot be read with another:
    /// start-up then fails rather than making new keys.
    /// </summary>
    public string? KeyEncryptionSecret { get; set; }

    /// <summary>The account made an admin on a start that finds no admin (a new deployment); see <see cref="FirstAdminSettings"/>.</summary>
    public FirstAdminSettings FirstAdmin { get; set; } = new();
}

/// <summary>
/// Outside Development nobody is an admin at first, and registering makes customers only: with both set, a start that
/// finds no admin creates this account with the Admin and Customer roles (the AppHost passes the parameters
/// <c>identity-first-admin-email</c> and the generated secret <c>identity-first-admin-password</c>). It never takes
/// over an existing account, and does nothing once any admin exists.
/// </summary>
public sealed class FirstAdminSettings
{
    /// <summary>A password this long is taken as it is (a generated one has 24 letters and digits); a shorter one must pass the account password rules.</summary>
    public const int LongPasswordLength = 16;

    public string? Email { get; set; }

    public string? Password { get; set; }
}

/// <summary>One client application: an OpenID Connect relying party using the authorization code flow with PKCE.</summary>
public sealed class ClientRegistration
{
    public string? DisplayName { get; set; }

    /// <summary>Set for a confidential client (a server-side web app); none for a public one.</summary>
    public string? ClientSecret { get; set; }

    public List<Uri> RedirectUris { get; set; } = [];

    public List<Uri> PostLogoutRedirectUris { get; set; } = [];
}
