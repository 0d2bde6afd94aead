using System.Net;
using System.Text.Json;

namespace Shop.Web.Services;

/// <summary>
/// An API's refusal as the storefront shows it: the RFC 7807 problem the gateway or a service answered with (status,
/// title, detail, validation errors by field) and, for 429 and 503, when to try again. <see cref="Message"/> turns it into a
/// sentence a shopper can act on.
/// </summary>
public sealed record ApiProblem(
    int Status,
    string? Title,
    string? Detail,
    IReadOnlyDictionary<string, string[]> Errors,
    TimeSpan? RetryAfter = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A sentence for the shopper. <paramref name="what"/> names the part of the shop that answered, e.g. "Ordering".</summary>
    public string Message(string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);

        return Status switch
        {
            StatusCodes.Status400BadRequest or StatusCodes.Status422UnprocessableEntity when Errors.Count > 0 =>
                string.Join(" ", Errors.Values.SelectMany(m => m).Distinct()),
            StatusCodes.Status401Unauthorized => "Your session has expired. Please sign in again.",
            StatusCodes.Status403Forbidden => "Your account is not allowed to do that.",
            StatusCodes.Status429TooManyRequests => $"You're going a little fast. Please try again {When()}.",
            >= 500 => $"{what} is unavailable right now. Please try again {When()}."
                      + (Detail is { Length: > 0 } && Status == StatusCodes.Status503ServiceUnavailable ? " " + Detail : string.Empty),
            _ => Detail ?? Title ?? $"{what} could not do that (error {Status}).",
        };
    }

    /// <summary>When to try again, as the answer's <c>Retry-After</c> says (a 429, a 503), or "in a moment".</summary>
    private string When() => RetryAfter is { } wait
        ? $"in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} seconds"
        : "in a moment";

    /// <summary>Reads the problem a failed response carries; a body that is not a problem still gives its status.</summary>
    public static async Task<ApiProblem> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);

        // The gateway says how long to wait in seconds (Retry-After: 3), never as a date.
        var retryAfter = response.Headers.RetryAfter?.Delta;
        ProblemBody? body = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                body = await response.Content.ReadFromJsonAsync<ProblemBody>(Json, cancellationToken);
            }
            catch (JsonException)
            {
                // Not a problem document after all: the status alone has to do.
            }
        }

        return new ApiProblem(
            (int)response.StatusCode,
            body?.Title ?? response.ReasonPhrase,
            body?.Detail,
            body?.Errors ?? new Dictionary<string, string[]>(),
            retryAfter);
    }

    /// <summary>The problem of a request that got no answer at all (connection refused, timed out, circuit open).</summary>
    public static ApiProblem NoAnswer { get; } = new((int)HttpStatusCode.ServiceUnavailable, "No answer", null, new Dictionary<string, string[]>());

    private sealed record ProblemBody(string? Title, string? Detail, Dictionary<string, string[]>? Errors);
}

/// <summary>Which failures of a call through the gateway mean "no answer" rather than a bug.</summary>
public static class GatewayFailures
{
    public static bool IsNoAnswer(Exception exception) =>
        exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
            or TaskCanceledException { InnerException: TimeoutException } or JsonException;
}
