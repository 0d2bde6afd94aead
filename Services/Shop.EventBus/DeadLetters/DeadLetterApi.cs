using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Shop.EventBus;

namespace Microsoft.AspNetCore.Builder;

public static class DeadLetterApi
{
    public const string DefaultPrefix = "/event-bus/dead-letters";
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;

    /// <summary>
    /// Maps the dead letters of this service's consumer group: list (<c>GET {prefix}?status=pending|replayed|all&amp;limit=</c>),
    /// read one (<c>GET {prefix}/{id}</c>), replay one through the handlers again (<c>POST {prefix}/{id}/replay</c>) and
    /// delete one (<c>DELETE {prefix}/{id}</c>). Returns the group, so the service adds its authorization:
    /// <c>app.MapDeadLetterApi().RequireAuthorization("admin")</c>.
    /// </summary>
    public static RouteGroupBuilder MapDeadLetterApi(this IEndpointRouteBuilder app, string prefix = DefaultPrefix)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (app.ServiceProvider.GetService<IDeadLetterService>() is null)
        {
            throw new InvalidOperationException("The event bus is not registered: call builder.AddEventBus<TContext>(\"kafka\") before mapping its dead-letter API.");
        }

        var group = app.MapGroup(prefix).WithTags("Dead letters");

        group.MapGet("/", ListDeadLetters)
            .WithName("ListDeadLetters")
            .WithSummary("List dead letters")
            .WithDescription("Messages this service's handlers gave up on, newest first. status: pending (default), replayed or all.");

        group.MapGet("/{id:guid}", GetDeadLetter)
            .WithName("GetDeadLetter")
            .WithSummary("Get a dead letter with its payload and headers");

        group.MapPost("/{id:guid}/replay", ReplayDeadLetter)
            .WithName("ReplayDeadLetter")
            .WithSummary("Run a dead letter through this service's handlers again")
            .WithDescription("Handlers that already processed the event are skipped (inbox). A handler that fails again answers 422 with its error.");

        group.MapDelete("/{id:guid}", DeleteDeadLetter)
            .WithName("DeleteDeadLetter")
            .WithSummary("Discard a dead letter");

        return group;
    }

    private static async Task<Results<Ok<IReadOnlyList<DeadLetterSummary>>, ProblemHttpResult>> ListDeadLetters(
        IDeadLetterService deadLetters, string? status, int? limit, CancellationToken cancellationToken)
    {
        DeadLetterFilter? filter = status?.ToLowerInvariant() switch
        {
            null or "" or "pending" => DeadLetterFilter.Pending,
            "replayed" => DeadLetterFilter.Replayed,
            "all" => DeadLetterFilter.All,
            _ => null,
        };
        if (filter is null)
        {
            return TypedResults.Problem(
                title: "Invalid status", detail: $"status must be pending, replayed or all, not '{status}'.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (limit is < 1 or > MaxLimit)
        {
            return TypedResults.Problem(
                title: "Invalid limit", detail: $"limit must be between 1 and {MaxLimit}, not {limit}.", statusCode: StatusCodes.Status400BadRequest);
        }

        return TypedResults.Ok(await deadLetters.ListAsync(filter.Value, limit ?? DefaultLimit, cancellationToken));
    }

    private static async Task<Results<Ok<DeadLetterDetails>, NotFound>> GetDeadLetter(
        IDeadLetterService deadLetters, Guid id, CancellationToken cancellationToken) =>
        await deadLetters.GetAsync(id, cancellationToken) is { } deadLetter ? TypedResults.Ok(deadLetter) : TypedResults.NotFound();

    private static async Task<Results<Ok<DeadLetterReplay>, NotFound, ProblemHttpResult>> ReplayDeadLetter(
        IDeadLetterService deadLetters, Guid id, CancellationToken cancellationToken) =>
        await deadLetters.ReplayAsync(id, cancellationToken) switch
        {
            ReplayResult.Done done => TypedResults.Ok(done.Replay),
            ReplayResult.Failed failed => TypedResults.Problem(
                title: "Replay failed",
                detail: failed.Error,
                statusCode: StatusCodes.Status422UnprocessableEntity,
                extensions: new Dictionary<string, object?> { ["exceptionType"] = failed.ExceptionType }),
            _ => TypedResults.NotFound(),
        };

    private static async Task<Results<NoContent, NotFound>> DeleteDeadLetter(
        IDeadLetterService deadLetters, Guid id, CancellationToken cancellationToken) =>
        await deadLetters.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
}
