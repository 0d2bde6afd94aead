using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

public static partial class ProblemDetailsExtensions
{
    /// <summary>
    /// Seconds a client is asked to wait (<c>Retry-After</c>) with a 503: what the request needs (the service's
    /// database, another service, the service behind the gateway) is unavailable for now, about as long as a restarted
    /// process takes to come back.
    /// </summary>
    public const int UnavailableRetryAfterSeconds = 5;

    /// <summary>Asks the client to retry in <see cref="UnavailableRetryAfterSeconds"/>: for a 503.</summary>
    public static void SetUnavailableRetryAfter(this HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.RetryAfter = UnavailableRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Every error an API returns is an RFC 7807 problem: unhandled exceptions (without internals), empty
    /// 4xx/5xx responses, and requests that cannot be bound (a query value that is not a number, malformed
    /// JSON, an oversized body), whose problem names the parameter at fault. A database that cannot be reached or
    /// does not answer in time (a transient <see cref="DbException"/>: a restart, an outage, a pool exhausted under
    /// overload) is a 503 with <c>Retry-After</c>, not a 500: the request was fine and can be repeated. Text the
    /// database refuses to store (<see cref="FindUnstorableText"/>) is the request's fault: a 400. Pair with
    /// <c>app.UseExceptionHandler()</c> and <c>app.UseStatusCodePages()</c>.
    /// </summary>
    public static TBuilder AddDefaultProblemDetails<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<DatabaseUnavailableExceptionHandler>();
        builder.Services.AddExceptionHandler<UnstorableTextExceptionHandler>();

        // Without this, binding failures outside Development end as an empty 400 that says nothing about
        // what was wrong; thrown, they reach BadRequestExceptionHandler in every environment alike.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        // The web defaults read "12" as 12, and the last of two "items" as the items. Either is a client's bug that
        // would hide behind it (which cart was meant?): a 400, as every API promises for a value it cannot take.
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.AllowDuplicateProperties = false;
        });

        return builder;
    }

    /// <summary>
    /// The transient database failure in <paramref name="exception"/>'s chain, if any: thrown as is (Npgsql) or wrapped
    /// (EF Core's execution strategy wraps one it does not retry in an <see cref="InvalidOperationException"/>).
    /// Such a request is answered with 503 and <c>Retry-After</c>.
    /// </summary>
    public static DbException? FindTransientDatabaseFailure(Exception exception) =>
        FindDatabaseFailure(exception, static failure => failure.IsTransient);

    /// <summary>
    /// PostgreSQL's refusal of text it cannot store in <paramref name="exception"/>'s chain, if any: a NUL character
    /// (U+0000), which JSON, query strings and form posts can all carry but no PostgreSQL text column can hold.
    /// </summary>
    public static DbException? FindUnstorableText(Exception exception) =>
        // character_not_in_repertoire; SqlState is DbException's, so no provider needs referencing here.
        FindDatabaseFailure(exception, static failure => failure.SqlState == "22021");

    /// <summary>The first <see cref="DbException"/> in the chain that <paramref name="matches"/>, thrown as is or wrapped.</summary>
    private static DbException? FindDatabaseFailure(Exception exception, Func<DbException, bool> matches)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is DbException failure && matches(failure))
            {
                return failure;
            }
        }

        return null;
    }

    private static ValueTask<bool> WriteProblemAsync(
        IProblemDetailsService problemDetails, HttpContext httpContext, Exception exception, int status, string title, string detail)
    {
        httpContext.Response.StatusCode = status;
        return problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    private sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException badRequest)
            {
                return ValueTask.FromResult(false);
            }

            if (badRequest.InnerException is UnstorableText.NulCharacterException { Path: var path })
            {
                return WriteProblemAsync(
                    problemDetails, httpContext, exception, StatusCodes.Status400BadRequest, UnstorableText.Title,
                    $"The value at '{path}' contains a NUL character (U+0000). {UnstorableText.Rule}");
            }

            return WriteProblemAsync(problemDetails, httpContext, exception, badRequest.StatusCode, "The request could not be read.", Describe(badRequest));
        }

        /// <summary>
        /// Framework messages such as 'Failed to bind parameter "int pageIndex" from "abc".' name the parameter
        /// and describe only the request; for a JSON body, the JSON path of the bad value is added.
        /// </summary>
        private static string Describe(BadHttpRequestException exception) => exception switch
        {
            { InnerException: JsonException { Path: { Length: > 0 } path } } =>
                $"{exception.Message} The value at '{path}' is missing, malformed or of the wrong type.",
            // The framework's words for an empty body (or a literal null) ask the API's author a question.
            { Message: var message } when message.StartsWith("Implicit body inferred for parameter", StringComparison.Ordinal)
                                          || message.EndsWith("was not provided from body.", StringComparison.Ordinal) =>
                "The request needs a JSON body, and it had none (or null).",
            _ => exception.Message,
        };
    }

    /// <summary>
    /// A transient database failure (<see cref="FindTransientDatabaseFailure"/>). It is logged as a warning without the
    /// stack trace, which says nothing the message does not, since an outage produces one per request.
    /// </summary>
    private sealed partial class DatabaseUnavailableExceptionHandler(IProblemDetailsService problemDetails, ILogger<DatabaseUnavailableExceptionHandler> logger)
        : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (FindTransientDatabaseFailure(exception) is not { } failure)
            {
                return ValueTask.FromResult(false);
            }

            LogDatabaseUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, failure.Message);
            httpContext.Response.SetUnavailableRetryAfter();
            return WriteProblemAsync(
                problemDetails,
                httpContext,
                exception,
                StatusCodes.Status503ServiceUnavailable,
                "The service's database is unavailable.",
                "The database could not be reached or did not answer in time. Retry the request in a few seconds; " +
                "a request with an Idempotency-Key can be repeated with the same key.");
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: the database is unavailable ({Reason})")]
        private static partial void LogDatabaseUnavailable(ILogger logger, string method, string path, string reason);
    }

    /// <summary>
    /// Text the database cannot store (<see cref="FindUnstorableText"/>): the statement failed, and with it the
    /// transaction it ran in.
    /// </summary>
    private sealed class UnstorableTextExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
    {
        public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken) =>
            FindUnstorableText(exception) is null
                ? ValueTask.FromResult(false)
                : WriteProblemAsync(
                    problemDetails,
                    httpContext,
                    exception,
                    StatusCodes.Status400BadRequest,
                    UnstorableText.Title,
                    UnstorableText.Rule);
    }
}
