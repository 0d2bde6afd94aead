using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Shop.Dashboard.Authentication;
using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Apis;

/// <summary>The read-only telemetry API for scripts and tests; same authentication as the UI.</summary>
public static class TelemetryApi
{
    private const int MaxLimit = 10_000;
    private const int MaxPointsPerSeries = 1_000;

    public static IEndpointRouteBuilder MapTelemetryApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        var api = endpoints.MapGroup("api/telemetry")
            .WithTags("Telemetry")
            .RequireAuthorization(DashboardAuthenticationDefaults.Policy);

        api.MapGet("resources", GetResources)
            .WithName("GetTelemetryResources")
            .WithSummary("Resources that sent telemetry, with how much of it is stored.");

        api.MapGet("logs", GetLogs)
            .WithName("GetLogs")
            .WithSummary("Structured logs, newest first; level is a minimum level.");

        api.MapGet("traces", GetTraces)
            .WithName("GetTraces")
            .WithSummary("Trace summaries, newest first.");

        api.MapGet("traces/{traceId}", GetTrace)
            .WithName("GetTrace")
            .WithSummary("One trace with all its spans.");

        api.MapGet("metrics", GetMetrics)
            .WithName("GetMetrics")
            .WithSummary("Instruments with their series and newest data points.");

        return endpoints;
    }

    private static Ok<TelemetryResourceDto[]> GetResources(TelemetryResourceRegistry registry, LogStore logs, TraceStore traces, MetricStore metrics) =>
        TypedResults.Ok(registry.All
            .Select(r => new TelemetryResourceDto(
                r.Id, r.Name, r.InstanceId, r.FirstSeen, logs.CountFor(r), traces.SpanCountFor(r), metrics.PointCountFor(r), r.Attributes.ToDictionary()))
            .ToArray());

    private static Results<Ok<LogListDto>, ProblemHttpResult> GetLogs(
        LogStore logs, string? resource, string? level, string? text, string? attribute, string? traceId, int? limit)
    {
        LogLevel? minLevel = null;
        if (!string.IsNullOrEmpty(level))
        {
            if (!Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || parsed == LogLevel.None)
            {
                return BadRequest("level", $"'{level}' is not a log level: use Trace, Debug, Information, Warning, Error or Critical.");
            }

            minLevel = parsed;
        }

        if (limit is < 1 or > MaxLimit)
        {
            return BadRequest("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        // attribute=name or attribute=name=value (the value matches as a substring).
        string? attributeName = null, attributeValue = null;
        if (!string.IsNullOrEmpty(attribute))
        {
            var separator = attribute.IndexOf('=');
            attributeName = separator < 0 ? attribute : attribute[..separator];
            attributeValue = separator < 0 ? null : attribute[(separator + 1)..];
        }

        var result = logs.Query(new LogQuery(resource, minLevel, text, attributeName, attributeValue, traceId, limit ?? 500));
        return TypedResults.Ok(new LogListDto([.. result.Entries.Select(e => e.ToDto())], result.TotalStored));
    }

    private static Results<Ok<TraceListDto>, ProblemHttpResult> GetTraces(
        TraceStore traces, string? resource, string? name, double? minDurationMs, int? limit, int? offset)
    {
        if (minDurationMs is < 0)
        {
            return BadRequest("minDurationMs", "minDurationMs must not be negative.");
        }

        if (limit is < 1 or > MaxLimit)
        {
            return BadRequest("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        if (offset is < 0)
        {
            return BadRequest("offset", "offset must not be negative.");
        }

        var result = traces.Query(new TraceQuery(resource, name, minDurationMs, offset ?? 0, limit ?? 100));
        return TypedResults.Ok(new TraceListDto([.. result.Traces.Select(t => t.ToDto())], result.MatchCount, result.TotalCount));
    }

    private static Results<Ok<TraceDto>, NotFound<Microsoft.AspNetCore.Mvc.ProblemDetails>, ProblemHttpResult> GetTrace(TraceStore traces, string traceId)
    {
        if (traceId.Length != 32 || !traceId.All(char.IsAsciiHexDigit))
        {
            return BadRequest("traceId", "A trace id is 32 hexadecimal characters.");
        }

        var trace = traces.Get(traceId);
        return trace is null
            ? TypedResults.NotFound(new Microsoft.AspNetCore.Mvc.ProblemDetails { Title = "Trace not found", Status = StatusCodes.Status404NotFound, Detail = $"No trace {traceId} is stored." })
            : TypedResults.Ok(new TraceDto(trace.Summary.ToDto(), [.. trace.Spans.Select(s => s.ToDto())]));
    }

    private static Ok<MetricInstrumentDto[]> GetMetrics(MetricStore metrics, string? resource, string? name) =>
        TypedResults.Ok(metrics.GetSnapshots(resource, name, MaxPointsPerSeries).Select(s => s.ToDto()).ToArray());

    private static ProblemHttpResult BadRequest(string parameter, string message) =>
        TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Title = "Invalid query",
            Status = StatusCodes.Status400BadRequest,
            Detail = message,
            Extensions = { ["parameter"] = parameter },
        });
}
