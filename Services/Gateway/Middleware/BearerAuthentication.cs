using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Gateway.Middleware;

public static class BearerAuthentication
{
    /// <summary>
    /// Authenticates the bearer token of every request that sends one, before the rate limiter, which partitions by
    /// user. A request without an <c>Authorization</c> header stays anonymous and skips authentication altogether,
    /// middleware included: anonymous catalog reads are most of the gateway's traffic. Routes that need a user still
    /// authenticate through their authorization policy, which reuses this result, and answer 401 without a valid
    /// token. (<c>UseAuthentication</c> inside the branch also keeps WebApplication from adding it for every request.)
    /// </summary>
    public static IApplicationBuilder UseBearerAuthentication(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

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
