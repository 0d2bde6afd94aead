using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Gateway.Middleware;

public static class BearerAuthentication
{
    /// <summary>The mark <c>UseAuthentication</c> leaves in the builder's properties (not a public ASP.NET Core constant).</summary>
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>
    /// Authenticates the bearer token of every request that sends one, before the rate limiter, which partitions by
    /// user. A request without an <c>Authorization</c> header stays anonymous and skips authentication altogether,
    /// middleware included: anonymous catalog reads are most of the gateway's traffic. Routes that need a user still
    /// authenticate through their authorization policy, which reuses this result, and answer 401 without a valid
    /// token.
    /// </summary>
    public static IApplicationBuilder UseBearerAuthentication(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // WebApplication adds UseAuthentication to the whole pipeline unless the root builder carries this mark, which
        // UseAuthentication sets; a branch writes its marks into a copy of the properties, so set it here.
        app.Properties[AuthenticationMiddlewareSetKey] = true;
        return app.UseWhen(
            context => context.Request.Headers.Authorization.Count > 0,
            branch => branch.UseAuthentication().Use(AuthenticateAsync));
    }

    private static async Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        var result = await context.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (result.Principal is not null)
        {
            context.User = result.Principal;
        }

        await next(context);
    }
}
