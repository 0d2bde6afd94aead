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
    /// an async frame of its own.
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

            return writeProblem(context);
        };
        return app.UseStatusCodePages(options);
    }
}
