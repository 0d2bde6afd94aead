using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Gateway.Middleware;

public static class BearerAuthentication
{
    /// <summary>
    /// Authenticates the bearer token of every request that sends one, before the rate limiter, which partitions by
    /// user. A request without an <c>Authorization</c> header stays anonymous without running the token handler:
    /// anonymous catalog reads are most of the gateway's traffic. Routes that need a user still authenticate through
    /// their authorization policy, which reuses this result, and answer 401 without a valid token.
    /// </summary>
    public static IApplicationBuilder UseBearerAuthentication(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.UseAuthentication();
        return app.Use((context, next) =>
            context.Request.Headers.Authorization.Count > 0 ? AuthenticateAsync(context, next) : next(context));
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
