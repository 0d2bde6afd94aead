using Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Middleware;

public static class RequestBodyLimits
{
    /// <summary>A body announced larger than <c>RequestLimits:MaxBodyBytes</c> gets a 413 problem at once, unread.</summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var limit = app.ApplicationServices.GetRequiredService<IOptions<RequestLimitSettings>>().Value.MaxBodyBytes;
        return app.Use((context, next) => context.Request.ContentLength > limit ? WriteTooLargeAsync(context, limit) : next(context));
    }

    /// <summary>
    /// A body of unknown length that outgrows the limit while it is forwarded makes Kestrel fail the read; YARP then
    /// answers 400 with no body. The client deserves the real reason: 413, as a problem. Applied by
    /// <see cref="ProblemStatusCodePages"/>.
    /// </summary>
    public static bool OutgrewLimit(IForwarderErrorFeature failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Exception is { } exception && FindBadRequest(exception) is { StatusCode: StatusCodes.Status413PayloadTooLarge };
    }

    private static BadHttpRequestException? FindBadRequest(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException badRequest)
            {
                return badRequest;
            }
        }

        return null;
    }

    public static Task WriteTooLargeAsync(HttpContext context, long limit)
    {
        context.Response.Clear();
        return ProblemStatusCodePages.WriteProblemAsync(
            context,
            StatusCodes.Status413PayloadTooLarge,
            "The request body is too large.",
            $"Request bodies can have at most {limit} bytes.");
    }
}
