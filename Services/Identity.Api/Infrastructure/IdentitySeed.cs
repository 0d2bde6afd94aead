using Identity.Api.Configuration;
using Identity.Api.Keys;
using Identity.Api.Model;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Api.Infrastructure;

/// <summary>
/// What the server needs before its first request, made or brought up to date on every start: its keys (and the
/// data-protection keys, checked to decrypt before anything uses them, then encrypted and bound if an earlier version
/// stored them otherwise), the roles, one scope per API, and the client applications the AppHost registered. In
/// Development only, a demo customer and an admin (see the README).
/// </summary>
public static partial class IdentitySeed
{
    public static async Task SeedAsync(ApplicationDbContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(services);

        await services.GetRequiredService<SigningKeyStore>().EnsureKeysAsync(context, cancellationToken);
        await services.GetRequiredService<KeyRingUpgrade>().UpgradeAsync(context, cancellationToken);
        await EnsureRolesAsync(services.GetRequiredService<RoleManager<IdentityRole>>());
        await EnsureApiScopesAsync(services.GetRequiredService<IOpenIddictScopeManager>(), cancellationToken);

        var settings = services.GetRequiredService<IOptions<IdentityServerSettings>>().Value;
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        foreach (var (clientId, client) in settings.Clients)
        {
            await RegisterClientAsync(applications, clientId, client, cancellationToken);
        }

        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IdentitySeed));
        if (services.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            foreach (var demo in DemoUsers)
            {
                await EnsureDemoUserAsync(users, demo, logger);
            }
        }

        await EnsureFirstAdminAsync(users, settings.FirstAdmin, logger);
    }

    /// <summary>
    /// Creates <see cref="FirstAdminSettings.Email"/> as an admin when no account is one yet (see
    /// <see cref="FirstAdminSettings"/>). Its address is taken as confirmed: it came from the deployment's own settings.
    /// </summary>
    internal static async Task EnsureFirstAdminAsync(UserManager<ApplicationUser> users, FirstAdminSettings firstAdmin, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(firstAdmin.Email) && string.IsNullOrEmpty(firstAdmin.Password))
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(firstAdmin.Email) || string.IsNullOrEmpty(firstAdmin.Password))
        {
            throw new InvalidOperationException(
                "Identity:FirstAdmin needs both Email and Password (the AppHost's parameters identity-first-admin-email and identity-first-admin-password), or neither.");
        }

        if ((await users.GetUsersInRoleAsync(ShopRoles.Admin)).Count > 0)
        {
            return;
        }

        var email = firstAdmin.Email.Trim();
        if (await users.FindByEmailAsync(email) is not null)
        {
            // Registration confirms no address: whoever registered it first would become the admin.
            throw new InvalidOperationException(
                $"Identity:FirstAdmin: {email} already has an account, and no account is an admin. The first admin is never made " +
                "from an existing account; set another address (parameter identity-first-admin-email).");
        }

        var user = new ApplicationUser { UserName = email, Email = email, Name = "Administrator", EmailConfirmed = true };
        if (firstAdmin.Password.Length >= FirstAdminSettings.LongPasswordLength)
        {
            // A long random secret (the generated parameter has letters and digits only) is stronger than the rules'
            // mix of character kinds asks for; the rules would refuse it for lacking a symbol.
            user.PasswordHash = users.PasswordHasher.HashPassword(user, firstAdmin.Password);
            ThrowOnFailure(await users.CreateAsync(user), $"create the first admin {email}");
        }
        else
        {
            ThrowOnFailure(await users.CreateAsync(user, firstAdmin.Password), $"create the first admin {email}");
        }

        ThrowOnFailure(await users.AddToRolesAsync(user, [ShopRoles.Admin, ShopRoles.Customer]), $"give {email} the admin role");
        LogFirstAdminCreated(logger, email);
    }

    /// <summary>Development only; documented in the service's README. Never created in any other environment.</summary>
    internal static readonly IReadOnlyList<DemoUser> DemoUsers =
    [
        new("customer@example.com", "Demo Customer", "Customer#2026", [ShopRoles.Customer]),
        new("admin@example.com", "Demo Admin", "Admin#2026", [ShopRoles.Admin, ShopRoles.Customer]),
    ];

    internal sealed record DemoUser(string Email, string Name, string Password, string[] Roles);

    private static async Task EnsureRolesAsync(RoleManager<IdentityRole> roles)
    {
        foreach (var role in new[] { ShopRoles.Admin, ShopRoles.Customer })
        {
            if (!await roles.RoleExistsAsync(role))
            {
                ThrowOnFailure(await roles.CreateAsync(new IdentityRole(role)), $"create the role '{role}'");
            }
        }
    }

    private static async Task EnsureApiScopesAsync(IOpenIddictScopeManager scopes, CancellationToken cancellationToken)
    {
        foreach (var api in ShopScopes.Apis)
        {
            var descriptor = new OpenIddictScopeDescriptor
            {
                Name = api,
                DisplayName = $"The {api} API",
                // The resource becomes the access token's audience: the API checks for its own name.
                Resources = { api },
            };

            if (await scopes.FindByNameAsync(api, cancellationToken) is { } existing)
            {
                // Unchanged on almost every start: writing it again (with OpenIddict's validation queries) would only
                // lengthen identity's start, the last of the services to become healthy.
                var stored = new OpenIddictScopeDescriptor();
                await scopes.PopulateAsync(stored, existing, cancellationToken);
                if (stored.DisplayName != descriptor.DisplayName || !stored.Resources.SetEquals(descriptor.Resources))
                {
                    await scopes.UpdateAsync(existing, descriptor, cancellationToken);
                }
            }
            else
            {
                await scopes.CreateAsync(descriptor, cancellationToken);
            }
        }
    }

    /// <summary>
    /// A first-party client: authorization code with PKCE, refresh tokens, every API scope, and no consent screen.
    /// Updated on every start, since its redirect URIs follow the storefront's ports.
    /// </summary>
    private static async Task RegisterClientAsync(
        IOpenIddictApplicationManager applications, string clientId, ClientRegistration client, CancellationToken cancellationToken)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = string.IsNullOrEmpty(client.ClientSecret) ? null : client.ClientSecret,
            ClientType = string.IsNullOrEmpty(client.ClientSecret) ? ClientTypes.Public : ClientTypes.Confidential,
            ApplicationType = ApplicationTypes.Web,
            ConsentType = ConsentTypes.Implicit,
            DisplayName = client.DisplayName ?? clientId,
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Email,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Roles,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var api in ShopScopes.Apis)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + api);
        }

        descriptor.RedirectUris.UnionWith(client.RedirectUris);
        descriptor.PostLogoutRedirectUris.UnionWith(client.PostLogoutRedirectUris);

        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is { } existing)
        {
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
        }
        else
        {
            await applications.CreateAsync(descriptor, cancellationToken);
        }
    }

    private static async Task EnsureDemoUserAsync(UserManager<ApplicationUser> users, DemoUser demo, ILogger logger)
    {
        if (await users.FindByEmailAsync(demo.Email) is not null)
        {
            return;
        }

        var user = new ApplicationUser { UserName = demo.Email, Email = demo.Email, Name = demo.Name, EmailConfirmed = true };
        ThrowOnFailure(await users.CreateAsync(user, demo.Password), $"create the demo user {demo.Email}");
        ThrowOnFailure(await users.AddToRolesAsync(user, demo.Roles), $"give {demo.Email} its roles");
        LogDemoUserCreated(logger, demo.Email, string.Join(", ", demo.Roles));
    }

    private static void ThrowOnFailure(IdentityResult result, string action)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"Could not {action}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No account was an admin: created the first admin {Email} (Identity:FirstAdmin); sign in with the password set there")]
    private static partial void LogFirstAdminCreated(ILogger logger, string email);

    [LoggerMessage(Level = LogLevel.Information, Message = "Development seed: created the demo user {Email} ({Roles})")]
    private static partial void LogDemoUserCreated(ILogger logger, string email, string roles);
}
