using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Shop.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

/// <summary>Roles the identity service puts in the <c>role</c> claim.</summary>
public static class ShopRoles
{
    public const string Admin = "admin";
    public const string Customer = "customer";
}

/// <summary>Authorization policies every API registers with <see cref="AuthenticationExtensions.AddDefaultAuthentication"/>.</summary>
public static class ShopPolicies
{
    /// <summary>
    /// The default policy: a signed-in user, by the identity service's bearer token. Shared, so that an API combining it
    /// with a requirement of its own (as the gateway does with each route's audience) keeps to the same definition.
    /// </summary>
    public static AuthorizationPolicy SignedInUser { get; } =
        new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build();

    /// <summary>A signed-in user with the <see cref="ShopRoles.Admin"/> role.</summary>
    public const string Admin = "admin";
}

public static class AuthenticationExtensions
{
    /// <summary>The configuration section naming the identity service: <c>Identity:Url</c> and <c>Identity:InternalUrl</c>.</summary>
    public const string IdentitySectionName = "Identity";

    private const string BackchannelClientName = "identity-backchannel";

    /// <summary>
    /// The hosted service with which ASP.NET Core Data Protection loads its key ring at start; registered by
    /// <c>AddAuthentication</c>, internal to ASP.NET Core, hence found by name.
    /// </summary>
    private const string DataProtectionHostedServiceName = "DataProtectionHostedService";

    /// <summary>ASP.NET Core's switch that stops a single registered scheme from becoming the default one.</summary>
    private const string SuppressAutoDefaultSchemeSwitch = "Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme";

    /// <summary>
    /// Validates the identity service's access tokens (JWT bearer): signature against its published keys, issuer,
    /// lifetime, token type, and an audience among <paramref name="audiences"/>, wherever an endpoint requires
    /// authorization (the default policy: a signed-in user; or one of the <see cref="ShopPolicies"/>).
    /// <para>
    /// <c>Identity:Url</c> is the issuer, the URL browsers use. Keys and metadata are fetched server-side from
    /// <c>Identity:InternalUrl</c> (e.g. <c>http://identity</c>, resolved by service discovery) when it is set:
    /// the public URL need not be reachable from inside, and no request for keys takes a detour through it.
    /// </para>
    /// </summary>
    public static IHostApplicationBuilder AddDefaultAuthentication(this IHostApplicationBuilder builder, params string[] audiences)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(audiences);
        if (audiences.Length == 0 || audiences.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("At least one audience, none empty, is required.", nameof(audiences));
        }

        var (issuer, internalUrl) = builder.Configuration.GetIdentityUrls();

        builder.Services.AddHttpClient(BackchannelClientName);
        // No default scheme: a token is checked where a policy asks for a user, not on every anonymous catalog read.
        // ASP.NET Core would otherwise make the only registered scheme the default, and UseAuthentication would run
        // the JWT handler for every request. Every policy below names its scheme, so nothing else needs a default.
        AppContext.SetSwitch(SuppressAutoDefaultSchemeSwitch, true);
        builder.Services.AddAuthentication()
            .AddJwtBearer(options =>
            {
                options.Authority = issuer.AbsoluteUri;
                options.RequireHttpsMetadata = issuer.Scheme == Uri.UriSchemeHttps;
                options.TokenHandlers.Clear();
                // Claims keep their JWT names (sub, name, role): no mapping to long XML-schema claim types.
                options.TokenHandlers.Add(new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false });
                options.MapInboundClaims = false;
                options.TokenValidationParameters.ValidAudiences = audiences;
                options.TokenValidationParameters.NameClaimType = JwtRegisteredClaimNames.Name;
                options.TokenValidationParameters.RoleClaimType = "role";
                // Access tokens only: an identity token (typ JWT) is not a credential for an API.
                options.TokenValidationParameters.ValidTypes = ["at+jwt"];
                // Tokens live minutes; the default five minutes of tolerance would stretch that a lot.
                options.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
            });
        SkipDataProtectionKeyLoadAtStart(builder.Services);
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IHttpMessageHandlerFactory>((options, handlers) =>
                options.Backchannel = CreateIdentityBackchannel(handlers, issuer, internalUrl));

        builder.Services.AddAuthorizationBuilder()
            .SetDefaultPolicy(ShopPolicies.SignedInUser)
            .AddPolicy(ShopPolicies.Admin, policy => policy
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole(ShopRoles.Admin));

        return builder;
    }

    /// <summary>
    /// An API that only accepts bearer tokens protects nothing with Data Protection, which AddAuthentication registers
    /// anyway: at every start its hosted service read (or created) a key file under ~/.aspnet, loading an XML parser
    /// for keys nothing uses. Without it, the key ring still loads on first use, should anything ask for a protector.
    /// </summary>
    private static void SkipDataProtectionKeyLoadAtStart(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostedService) && services[i].ImplementationType?.Name == DataProtectionHostedServiceName)
            {
                services.RemoveAt(i);
            }
        }
    }

    /// <summary>The issuer (<c>Identity:Url</c>) and where server-side calls to it go (<c>Identity:InternalUrl</c>, else the issuer).</summary>
    public static (Uri Issuer, Uri InternalUrl) GetIdentityUrls(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration.GetSection(IdentitySectionName);
        var issuer = ReadAbsoluteUrl(section, "Url")
            ?? throw new InvalidOperationException(
                "The identity service's public URL is not configured: set 'Identity:Url' (environment variable Identity__Url) " +
                "to the URL of the token issuer, or run the service through Shop.AppHost, which sets it.");
        return (issuer, ReadAbsoluteUrl(section, "InternalUrl") ?? issuer);
    }

    /// <summary>
    /// An HttpClient for server-side calls to the identity service (metadata, keys, tokens): requests to the public
    /// <paramref name="issuer"/> go to <paramref name="internalUrl"/> instead, through the client pipeline of the
    /// service defaults (service discovery, resilience).
    /// </summary>
    public static HttpClient CreateIdentityBackchannel(IHttpMessageHandlerFactory handlers, Uri issuer, Uri internalUrl)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(internalUrl);

        var pipeline = handlers.CreateHandler(BackchannelClientName);
        return new HttpClient(new IssuerRewriteHandler(issuer, internalUrl) { InnerHandler = pipeline });
    }

    private static Uri? ReadAbsoluteUrl(IConfigurationSection section, string key)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new InvalidOperationException($"'{section.Path}:{key}' must be an absolute http(s) URL; it is '{value}'.");
    }

    /// <summary>Sends requests addressed under the public issuer URL to the internal one, keeping the rest of the path.</summary>
    private sealed class IssuerRewriteHandler(Uri issuer, Uri internalUrl) : DelegatingHandler
    {
        private readonly string _issuerPrefix = issuer.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/";
        private readonly string _internalPrefix = internalUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = request.RequestUri?.AbsoluteUri;
            if (target is not null && _issuerPrefix != _internalPrefix
                && target.StartsWith(_issuerPrefix, StringComparison.OrdinalIgnoreCase))
            {
                request.RequestUri = new Uri(_internalPrefix + target[_issuerPrefix.Length..]);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
