using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    /// user. A request without an <c>Authorization</c> header stays anonymous and skips authentication altogether,
    /// middleware included: anonymous catalog reads are most of the gateway's traffic. Routes that need a user still
    /// authenticate through their authorization policy, and answer 401 without a valid token.
    /// <para>
    /// A client sends the same token with every request, so the principal of an accepted <c>Authorization</c> header
    /// is remembered by its exact text (<see cref="AcceptedTokenMemory{TValue}"/>: at most a minute, never past the
    /// token's expiry) and the next request with it skips ASP.NET Core's authentication service, its request
    /// services and the JWT handler. That made a signed-in catalog read cost what an anonymous one does; a refused
    /// token is never remembered. The remembered principal is shared by the requests that carry that header, all the
    /// same user's: nothing in the gateway changes a principal.
    /// </para>
    /// </summary>
    public static IApplicationBuilder UseBearerAuthentication(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var accepted = app.ApplicationServices.GetRequiredService<AcceptedTokenMemory<ClaimsPrincipal>>();
        // WebApplication adds UseAuthentication to the whole pipeline unless the root builder carries this mark. The
        // gateway has no default scheme and no remote sign-in, so that middleware would do nothing but cost.
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        return app.UseWhen(
            context => context.Request.Headers.Authorization.Count > 0,
            branch => branch.Use((context, next) => AuthenticateAsync(context, next, accepted)));
    }

    /// <summary>A remembered token goes on without an async frame of its own; only a token not seen yet is awaited.</summary>
    private static Task AuthenticateAsync(HttpContext context, RequestDelegate next, AcceptedTokenMemory<ClaimsPrincipal> accepted)
    {
        var authorization = context.Request.Headers.Authorization;
        var header = authorization.Count == 1 ? authorization[0] : null;
        if (accepted.TryGet(header, out var principal))
        {
            context.User = principal;
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
            context.User = result.Principal;
            if (header is not null && result.Properties.ExpiresUtc is { } expires)
            {
                accepted.Remember(header, result.Principal, expires);
            }
        }

        await next(context);
    }
}
