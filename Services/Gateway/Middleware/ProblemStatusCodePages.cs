using Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Middleware;

public static class ProblemStatusCodePages
{
    /// <summary>
    /// Every empty error answer gets a problem body (ASP.NET Core's status code pages with the problem details
    /// service). An answer YARP made for a failed forward is told apart first: a service that could not be reached is
    /// unavailable for now (<see cref="UnreachableServices"/>), and a body that outgrew the limit while it was
    /// forwarded is too large (<see cref="RequestBodyLimits"/>). Decided here, once an answer is known to be an empty
    /// error, this costs a forwarded request nothing; a middleware in the proxy's pipeline would wrap every forward in
    /// an async frame of its own. A request no route matched says so. There is no catch-all endpoint for it: one
    /// would match every method, and routing could no longer answer 405 (with <c>Allow</c>) for a path that exists
    /// under other methods.
    /// </summary>
    public static IApplicationBuilder UseProblemStatusCodePages(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var limit = app.ApplicationServices.GetRequiredService<IOptions<RequestLimitSettings>>().Value.MaxBodyBytes;
        var options = new StatusCodePagesOptions();
        var writeProblem = options.HandleAsync;
        options.HandleAsync = context =>
        {
            var http = context.HttpContext;
            if (http.GetForwarderErrorFeature() is { } failure)
            {
                if (RequestBodyLimits.OutgrewLimit(failure))
                {
                    return RequestBodyLimits.WriteTooLargeAsync(http, limit);
                }

                UnreachableServices.TryAnswerUnavailable(http.Response, failure);
            }
            else if (http.Response.StatusCode == StatusCodes.Status404NotFound && http.GetEndpoint() is null)
            {
                return WriteNoRouteAsync(http);
            }

            return writeProblem(context);
        };
        return app.UseStatusCodePages(options);
    }

    private static Task WriteNoRouteAsync(HttpContext context) => WriteProblemAsync(
        context,
        StatusCodes.Status404NotFound,
        "No route matches this request.",
        $"The gateway has no route for {context.Request.Method} {context.Request.Path}.");

    /// <summary>The gateway's own answer of <paramref name="status"/>, as a problem: the one way its middleware refuses a request.</summary>
    internal static Task WriteProblemAsync(HttpContext context, int status, string title, string detail, string? type = null)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Type = type, Title = title, Detail = detail },
        }).AsTask();
    }
}
