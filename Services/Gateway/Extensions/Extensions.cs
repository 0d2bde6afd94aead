using System.Net;
using Gateway.Caching;
using Gateway.Configuration;
using Gateway.Middleware;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Gateway.Extensions;

public static class Extensions
{
    /// <summary>The CORS policy of every route: the storefront's origin (<c>Cors:AllowedOrigins</c>) and no other.</summary>
    private const string StorefrontCorsPolicy = "storefront";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();
        // With any log provider, ASP.NET Core's hosting opens a logging scope (request id and path) for every request,
        // whether or not anything is logged in it: 0.4 KB per request. The gateway logs little per request, and what
        // it logs carries the trace and span ids, which lead to the path. This category's request start and finish
        // lines are below the configured level anyway; a start-up failure still ends the process with its exception.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // Routes and clusters come from the "ReverseProxy" section; cluster destinations name services
        // (http://products), which service discovery turns into the addresses the AppHost gave this process.
        // Each route names its authorization policy: "anonymous", "default" (a signed-in user) or "admin"; one that
        // needs a user also needs a token for its cluster's audience (RouteAudiences).
        var reverseProxy = builder.Configuration.GetSection("ReverseProxy");

        // No default scheme: UseBearerAuthentication checks a token wherever one is sent (the rate limiter partitions
        // by user), and anonymous requests, most of the traffic, skip the token handler altogether. A token for any
        // cluster's audience is authentic here; each route then asks for its own.
        builder.AddDefaultAuthentication(RouteAudiences.ReadAll(reverseProxy));
        builder.Services.AddBearerAuthentication();

        builder.Services.AddReverseProxy()
            .LoadFromConfig(reverseProxy)
            .ValidateRouteAudiences()
            .AddServiceDiscoveryDestinationResolver()
            .PropagateRequestSpan()
            .ForwardHeadersAsUtf8()
            .LogDestinationOutages()
            .AddTaggedResponseCache(builder);

        builder.AddStorefrontCors();
        builder.AddCallerRateLimits();
        builder.AddRequestLimits();

        return builder;
    }

    private static void AddStorefrontCors(this IHostApplicationBuilder builder)
    {
        var origins = builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [];
        builder.Services.AddCors(options => options.AddPolicy(StorefrontCorsPolicy, policy => policy
            .WithOrigins([.. origins.Select(o => o.TrimEnd('/'))])
            .AllowAnyHeader()
            .AllowAnyMethod()
            .WithExposedHeaders("Retry-After", "Location")));
    }

    /// <summary>
    /// The storefront's CORS policy on every route. Only requests with an <c>Origin</c> header, browsers' cross-origin
    /// calls, go through the CORS middleware: for any other it would still open a service scope and the request's
    /// items dictionary, and server-side callers (the storefront's backend, services) are most of the traffic.
    /// </summary>
    public static IApplicationBuilder UseStorefrontCors(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        return app.UseWhen(
            context => context.Request.Headers.Origin.Count > 0,
            branch => branch.UseCors(StorefrontCorsPolicy));
    }

    private static void AddRequestLimits(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(RequestLimitSettings.SectionName);
        builder.Services.AddOptions<RequestLimitSettings>()
            .Bind(section)
            .Validate(s => s.MaxBodyBytes > 0, "RequestLimits:MaxBodyBytes must be positive.")
            .ValidateOnStart();
        // Kestrel enforces the limit on bodies of unknown length while they stream; RequestBodyLimitMiddleware
        // answers the ones that announce their length up front.
        builder.Services.Configure<KestrelServerOptions>(options =>
            options.Limits.MaxRequestBodySize = section.Get<RequestLimitSettings>()?.MaxBodyBytes ?? new RequestLimitSettings().MaxBodyBytes);
    }
}
