using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

public static class ProblemDetailsExtensions
{
    /// <summary>
    /// Every error an API returns is an RFC 7807 problem: unhandled exceptions (without internals), empty
    /// 4xx/5xx responses, and requests that cannot be bound (a query value that is not a number, malformed
    /// JSON, an oversized body), whose problem names the parameter at fault. Pair with
    /// <c>app.UseExceptionHandler()</c> and <c>app.UseStatusCodePages()</c>.
    /// </summary>
    public static TBuilder AddDefaultProblemDetails<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();

        // Without this, binding failures outside Development end as an empty 400 that says nothing about
        // what was wrong; thrown, they reach BadRequestExceptionHandler in every environment alike.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        return builder;
    }

    private sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException badRequest)
            {
                return ValueTask.FromResult(false);
            }

            httpContext.Response.StatusCode = badRequest.StatusCode;
            return problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails =
                {
                    Status = badRequest.StatusCode,
                    Title = "The request could not be read.",
                    Detail = Describe(badRequest),
                },
            });
        }

        /// <summary>
        /// Framework messages such as 'Failed to bind parameter "int pageIndex" from "abc".' name the parameter
        /// and describe only the request; for a JSON body, the JSON path of the bad value is added.
        /// </summary>
        private static string Describe(BadHttpRequestException exception) =>
            exception.InnerException is JsonException { Path: { Length: > 0 } path }
                ? $"{exception.Message} The value at '{path}' is missing, malformed or of the wrong type."
                : exception.Message;
    }
}
