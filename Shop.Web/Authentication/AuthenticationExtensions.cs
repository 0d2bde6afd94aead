using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Shop.Web.Cart;

namespace Shop.Web.Authentication;

public static class AuthenticationExtensions
{
    /// <summary>The storefront's own session cookie (the identity service has its own, on the gateway's host).</summary>
    public const string SessionCookieName = "shop.web";

    /// <summary>Every API the storefront calls for its users; each gets an audience in the access token.</summary>
    private static readonly string[] ApiScopes = ["products", "ordering", "payment", "identity"];

    /// <summary>
    /// Sign-in with OpenID Connect against the identity service (authorization code with PKCE, as a confidential
    /// client), a cookie session holding the tokens, and their refresh before the access token expires
    /// (<see cref="TokenRefresher"/>). <c>Identity:Url</c> is the issuer the browser is sent to;
    /// server-side calls (token, keys) go to <c>Identity:InternalUrl</c>.
    /// </summary>
    public static IHostApplicationBuilder AddStorefrontAuthentication(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var (issuer, internalUrl) = builder.Configuration.GetIdentityUrls();
        var identity = builder.Configuration.GetSection(Microsoft.Extensions.Hosting.AuthenticationExtensions.IdentitySectionName);

        builder.Services.AddSingleton<TokenRefresher>();
        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(options =>
            {
                options.Cookie.Name = SessionCookieName;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
                options.SlidingExpiration = true;
                options.Events.OnValidatePrincipal = context =>
                    context.HttpContext.RequestServices.GetRequiredService<TokenRefresher>().ValidatePrincipalAsync(context);
            })
            .AddOpenIdConnect(options =>
            {
                options.Authority = issuer.AbsoluteUri;
                options.RequireHttpsMetadata = issuer.Scheme == Uri.UriSchemeHttps;
                options.ClientId = identity["ClientId"] ?? "web";
                options.ClientSecret = identity["ClientSecret"];
                options.ResponseType = "code";
                options.UsePkce = true;
                options.SaveTokens = true;
                options.MapInboundClaims = false;
                options.GetClaimsFromUserInfoEndpoint = false;
                options.Scope.Clear();
                foreach (var scope in (string[])["openid", "profile", "email", "roles", "offline_access", .. ApiScopes])
                {
                    options.Scope.Add(scope);
                }

                options.TokenValidationParameters.NameClaimType = "name";
                options.TokenValidationParameters.RoleClaimType = "role";

                // What a visitor put in their cart before signing in stays in it after; what the cart had no room
                // for is said on the page the sign-in returns to.
                options.Events.OnTicketReceived = async context =>
                {
                    var leftOut = await CartSession.MergeVisitorCartAsync(context.HttpContext, context.Principal);
                    if (leftOut.Count > 0)
                    {
                        context.ReturnUri = QueryHelpers.AddQueryString(
                            context.ReturnUri ?? "/", CartSession.LeftOutQueryName, leftOut.Count.ToString(CultureInfo.InvariantCulture));
                    }
                };

                if (issuer.Scheme == Uri.UriSchemeHttp)
                {
                    // The defaults (SameSite=None, Secure) need HTTPS: over plain HTTP, as in local runs, the
                    // correlation and nonce cookies would not come back. Lax ones still travel with the identity
                    // service's form post, which comes from the same site.
                    foreach (var cookie in new[] { options.CorrelationCookie, options.NonceCookie })
                    {
                        cookie.SameSite = SameSiteMode.Lax;
                        cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                    }
                }
            });
        builder.Services.AddOptions<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme)
            .Configure<IHttpMessageHandlerFactory>((options, handlers) =>
                options.Backchannel = Microsoft.Extensions.Hosting.AuthenticationExtensions.CreateIdentityBackchannel(handlers, issuer, internalUrl));

        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddHttpContextAccessor();

        return builder;
    }

    /// <summary>
    /// Sign-in sessions in Redis (<see cref="RedisSessionStore"/>), the cookie holding only a session's key: needs the
    /// carts' <see cref="StackExchange.Redis.IConnectionMultiplexer"/>.
    /// </summary>
    public static IServiceCollection AddSessionsInRedis(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddSingleton<RedisSessionStore>();
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<RedisSessionStore>((options, sessions) => options.SessionStore = sessions);
        return services;
    }

    /// <summary><c>GET /authentication/login</c> starts a sign-in; <c>POST /authentication/logout</c> (a form with an antiforgery token) ends it everywhere.</summary>
    public static IEndpointRouteBuilder MapAuthenticationEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var group = app.MapGroup("authentication").ExcludeFromDescription();

        group.MapGet("/login", (string? returnUrl) => TypedResults.Challenge(
                new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) },
                [OpenIdConnectDefaults.AuthenticationScheme]))
            .WithName("SignIn");

        group.MapPost("/logout", ([FromForm] string? returnUrl, ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true
                ? (IResult)TypedResults.SignOut(
                    new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) },
                    [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme])
                : TypedResults.LocalRedirect(LocalOrHome(returnUrl)))
            .WithName("SignOut");

        return app;
    }

    /// <summary>
    /// Only paths of this site: a crafted link must not make the sign-in an open redirect. No control characters at
    /// all: browsers drop a tab or line break from a Location, so "/\t/evil.example" would be followed as
    /// "//evil.example", and a line break cannot go into a header anyway. ASP.NET Core's own local-URL check refuses
    /// both; its <c>~/</c> paths are not taken, as nothing here resolves them.
    /// </summary>
    internal static string LocalOrHome(string? returnUrl) =>
        returnUrl is ['/', ..] && RedirectHttpResult.IsLocalUrl(returnUrl) ? returnUrl : "/";
}
