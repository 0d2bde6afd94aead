using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Gateway.Middleware;

public static class BearerAuthentication
{
    /// <summary>The mark <c>UseAuthentication</c> leaves in the builder's properties (not a public ASP.NET Core constant).</summary>
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>Registers what <see cref="UseBearerAuthentication"/> needs: the memory of recently accepted tokens.</summary>
    public static IServiceCollection AddBearerAuthentication(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AcceptedTokenMemory<ClaimsPrincipal>>();
        return services;
    }

    /// <summary>
    /// Authenticates the bearer token of every request that sends one, before the rate limiter, which partitions by
    /// user. A request without an <c>Authorization</c> header stays anonymous and skips authentication altogether:
    /// anonymous catalog reads are most of the gateway's traffic. Routes that need a user still
    /// authenticate through their authorization policy, and answer 401 without a valid token.
    /// <para>
    /// A client sends the same token with every request, so the principal of an accepted <c>Authorization</c> header
    /// is remembered by its exact text (<see cref="AcceptedTokenMemory{TValue}"/>: at most a minute, never past the
    /// token's expiry) and the next request with it skips ASP.NET Core's authentication service, its request
    /// services and the JWT handler. That made a signed-in catalog read cost what an anonymous one does. The remembered
    /// principal is shared by the requests that carry that header, all the same user's: nothing in the gateway changes
    /// a principal.
    /// </para>
    /// <para>
    /// An expired token is remembered too, for a minute, as anonymous: a client that goes on sending one after it
    /// expired (to the catalog, which answers anonymous callers) cost the gateway three times an anonymous request,
    /// refused in full each time. Its signature was checked before its lifetime, so it was issued by the identity
    /// service, and it can never become valid again. Any other refusal (bad signature, unknown key, wrong audience) is
    /// checked every time, and a route that needs a user still asks the handler, which answers 401 with the reason.
    /// </para>
    /// </summary>
    public static IApplicationBuilder UseBearerAuthentication(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var accepted = app.ApplicationServices.GetRequiredService<AcceptedTokenMemory<ClaimsPrincipal>>();
        // WebApplication adds UseAuthentication to the whole pipeline unless the root builder carries this mark. The
        // gateway has no default scheme and no remote sign-in, so that middleware would do nothing but cost.
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        return app.Use(next => context =>
        {
            var authorization = context.Request.Headers.Authorization;
            return authorization.Count == 0 ? next(context) : AuthenticateAsync(context, next, accepted, authorization);
        });
    }

    /// <summary>What the memory holds for an expired token: its requests go on anonymous.</summary>
    private static readonly ClaimsPrincipal ExpiredToken = new();

    /// <summary>A remembered token goes on without an async frame of its own; only a token not seen yet is awaited.</summary>
    private static Task AuthenticateAsync(
        HttpContext context, RequestDelegate next, AcceptedTokenMemory<ClaimsPrincipal> accepted, StringValues authorization)
    {
        var header = authorization.Count == 1 ? authorization[0] : null;
        if (accepted.TryGet(header, out var principal))
        {
            if (!ReferenceEquals(principal, ExpiredToken))
            {
                context.User = principal;
            }

            return next(context);
        }

        return AuthenticateWithHandlerAsync(context, next, accepted, header);
    }

    private static async Task AuthenticateWithHandlerAsync(
        HttpContext context, RequestDelegate next, AcceptedTokenMemory<ClaimsPrincipal> accepted, string? header)
    {
        var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (result.Succeeded)
        {
            var user = new SignedInUser(result.Principal);
            context.User = user;
            if (header is not null && result.Properties.ExpiresUtc is { } expires)
            {
                accepted.Remember(header, user, expires);
            }
        }
        else if (header is not null && result.Failure is SecurityTokenExpiredException)
        {
            accepted.Remember(header, ExpiredToken, DateTimeOffset.MaxValue);
        }

        await next(context);
    }
}

/// <summary>
/// The principal of a token the gateway accepted, with the user's id (<c>sub</c>) read once when it was accepted: the
/// rate limiter partitions every request by it, and a remembered principal serves many requests.
/// </summary>
public sealed class SignedInUser : ClaimsPrincipal
{
    public SignedInUser(ClaimsPrincipal principal)
        : base((principal ?? throw new ArgumentNullException(nameof(principal))).Identities)
    {
        Subject = this.FindFirstValue("sub") is { Length: > 0 } subject ? subject : null;
    }

    /// <summary>The user's id, or null when the token names none.</summary>
    public string? Subject { get; }
}
