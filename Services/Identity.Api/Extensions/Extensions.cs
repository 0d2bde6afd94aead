using System.Net;
using Identity.Api.Apis;
using Identity.Api.Configuration;
using Identity.Api.Infrastructure;
using Identity.Api.Keys;
using Identity.Api.Model;
using Identity.Api.Services;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Identity.Api.Extensions;

public static class Extensions
{
    public const string DatabaseConnectionName = "identitydb";

    /// <summary>The sign-in cookie of the identity service, on the gateway's host (the issuer's).</summary>
    public const string SessionCookieName = "shop.identity";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();
        builder.AddUnstorableTextRefusal();

        builder.AddNpgsqlDbContext<ApplicationDbContext>(DatabaseConnectionName);
        builder.Services.AddSingleton<SigningKeyProtector>();
        builder.Services.AddSingleton<SigningKeyStore>();
        builder.Services.AddMigration<ApplicationDbContext>(IdentitySeed.SeedAsync);

        var section = builder.Configuration.GetSection(IdentityServerSettings.SectionName);
        builder.Services.AddOptions<IdentityServerSettings>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IdentityServerSettings>, IdentityServerSettingsValidator>();
        var settings = section.Get<IdentityServerSettings>() ?? new IdentityServerSettings();
        var (issuer, _) = builder.Configuration.GetIdentityUrls();

        builder.AddUserAccounts(section.GetSection("Lockout"));
        builder.AddAuthorizationServer(issuer, settings);

        builder.Services.AddRazorPages();
        builder.Services.AddScoped<UserRegistration>();

        return builder;
    }

    /// <summary>
    /// ASP.NET Core Identity: password rules, unique e-mail addresses, lockout after repeated failures
    /// (<c>Identity:Lockout:MaxFailedAccessAttempts</c>, <c>Identity:Lockout:DefaultLockoutTimeSpan</c>), for addresses
    /// without an account too, failures forgotten a day after the last (<see cref="AddSignInLockout"/>), and the sign-in
    /// cookie. The data-protection key ring lives in identitydb, encrypted, so cookies survive restarts and work across
    /// replicas.
    /// </summary>
    private static void AddUserAccounts(this IHostApplicationBuilder builder, IConfigurationSection lockout)
    {
        builder.Services.AddIdentity<ApplicationUser, IdentityRole>(options =>
            {
                options.User.RequireUniqueEmail = true;
                // The user name is the e-mail address, which Identity validates as one; the default
                // character list would refuse valid addresses such as o'neil@example.com.
                options.User.AllowedUserNameCharacters = string.Empty;
                options.Password.RequiredLength = 8;
                options.Lockout.AllowedForNewUsers = true;
                lockout.Bind(options.Lockout);
            })
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddDefaultTokenProviders()
            .AddSignInLockout();

        builder.Services.ConfigureApplicationCookie(options =>
        {
            options.Cookie.Name = SessionCookieName;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/login";
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
        });

        builder.Services.AddKeyRing();
    }

    /// <summary>
    /// Sign-in answers an address without an account as it answers an account: same lockout after as many failures,
    /// same time spent on the password (<see cref="ShopSignInManager"/>, <see cref="UnknownAddressLockout"/>), and the
    /// failures of both forgotten as long after the last one (<see cref="ShopUserManager"/>); and an address is one
    /// account however its letters are encoded (<see cref="UnicodeLookupNormalizer"/>).
    /// </summary>
    internal static IdentityBuilder AddSignInLockout(this IdentityBuilder identity)
    {
        identity.Services.AddScoped<UnknownAddressLockout>();
        // In place of the upper-casing one AddIdentity registers.
        identity.Services.Replace(ServiceDescriptor.Scoped<ILookupNormalizer, UnicodeLookupNormalizer>());
        return identity.AddUserManager<ShopUserManager>().AddSignInManager<ShopSignInManager>();
    }

    /// <summary>
    /// The data-protection key ring (sign-in cookie, antiforgery tokens), shared by every replica in identitydb; each
    /// key's secret is encrypted with the key-encryption secret and bound to the key's id (<see cref="KeyRingXmlEncryptor"/>,
    /// <see cref="KeyRingRepository"/>). At start-up every stored key is checked to decrypt, and keys stored in plain
    /// text or unbound by an earlier version are upgraded (<see cref="KeyRingUpgrade"/>); a key ring that does not
    /// decrypt is never handed to Data Protection.
    /// </summary>
    internal static IDataProtectionBuilder AddKeyRing(this IServiceCollection services)
    {
        services.AddSingleton<KeyRingXmlEncryptor>();
        services.AddSingleton<KeyRingXmlDecryptor>();
        services.AddSingleton<KeyRingUpgrade>();
        // Through the options, so the encryptor reads the validated settings and is the one the upgrade uses.
        services.AddOptions<KeyManagementOptions>()
            .Configure<KeyRingXmlEncryptor>((options, encryptor) => options.XmlEncryptor = encryptor)
            // After PersistKeysToDbContext has set EF Core's repository.
            .PostConfigure<KeyRingXmlEncryptor, KeyRingXmlDecryptor>((options, encryptor, decryptor) => options.XmlRepository = new KeyRingRepository(
                options.XmlRepository ?? throw new InvalidOperationException("The key ring's EF Core repository is not configured."),
                encryptor,
                decryptor));

        return services.AddDataProtection()
            .SetApplicationName("Shop.Identity")
            .PersistKeysToDbContext<ApplicationDbContext>();
    }

    /// <summary>
    /// The OpenID Connect server (OpenIddict, EF Core stores in identitydb): authorization code with PKCE, refresh
    /// tokens, discovery and JWKS, end session. Access tokens are signed JWTs (not encrypted) so that every API can
    /// check them against the published keys; the keys come from <see cref="SigningKeyStore"/>. This service's own
    /// API accepts the tokens whose audience is <c>identity</c>.
    /// </summary>
    private static void AddAuthorizationServer(this IHostApplicationBuilder builder, Uri issuer, IdentityServerSettings settings)
    {
        builder.Services.AddOpenIddict()
            .AddCore(options => options.UseEntityFrameworkCore().UseDbContext<ApplicationDbContext>())
            .AddServer(options =>
            {
                options.SetIssuer(issuer)
                    .SetAuthorizationEndpointUris("connect/authorize")
                    .SetTokenEndpointUris("connect/token")
                    .SetEndSessionEndpointUris("connect/logout")
                    .AllowAuthorizationCodeFlow()
                    .AllowRefreshTokenFlow()
                    .RequireProofKeyForCodeExchange()
                    .RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess)
                    .SetAccessTokenLifetime(settings.AccessTokenLifetime)
                    .SetRefreshTokenLifetime(settings.RefreshTokenLifetime)
                    .DisableAccessTokenEncryption();

                // S256 only: a "plain" challenge is the verifier itself and protects nothing.
                options.Configure(server => server.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));

                options.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    // TLS ends at the gateway (the issuer's host); this service is reached over the internal network.
                    .DisableTransportSecurityRequirement();
            })
            .AddValidation(options =>
            {
                options.UseLocalServer();
                options.AddAudiences(ShopScopes.Identity);
                options.UseAspNetCore();
            });

        builder.Services.AddSingleton<IConfigureOptions<OpenIddict.Server.OpenIddictServerOptions>, ServerKeysSetup>();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UsersApi.UserPolicy, policy => policy
                .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser())
            .AddPolicy(UsersApi.AdminPolicy, policy => policy
                .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole(ShopRoles.Admin));
    }

    /// <summary>
    /// Identity has one public name, its issuer (<c>Identity:Url</c>, the gateway's URL): every request is taken as
    /// addressed to it, whatever Host it came with. OpenIddict (discovery, redirects) and the sign-in cookie build
    /// absolute URLs from the request, so none of them can name this service's internal address, nor a host a caller
    /// chose. A path in the issuer is where the gateway publishes this service. The client's address is taken from trusted
    /// proxies first (<see cref="TrustedProxyExtensions.AddTrustedProxies"/>, in the service defaults).
    /// </summary>
    public static IApplicationBuilder UseIssuerAsOrigin(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var (issuer, _) = app.ApplicationServices.GetRequiredService<IConfiguration>().GetIdentityUrls();
        var host = HostString.FromUriComponent(issuer.Authority);
        var pathBase = PathString.FromUriComponent(issuer.AbsolutePath.TrimEnd('/'));

        app.UseTrustedProxies();
        return app.Use((context, next) =>
        {
            context.Request.Scheme = issuer.Scheme;
            context.Request.Host = host;
            context.Request.PathBase = pathBase;
            return next(context);
        });
    }
}
