using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Shop.EventBus;

/// <summary>A dead letter as the API lists it.</summary>
public sealed record DeadLetterSummary(
    Guid Id,
    Guid? EventId,
    string? EventType,
    string OriginTopic,
    int OriginPartition,
    long OriginOffset,
    string Error,
    string ExceptionType,
    string? Handler,
    int Attempts,
    DateTimeOffset FailedAt,
    DateTimeOffset? ReplayedAt,
    int ReplayCount,
    string? LastReplayError);

/// <summary>A dead letter with its message: key, payload (as text) and original headers.</summary>
public sealed record DeadLetterDetails(
    Guid Id,
    Guid? EventId,
    string? EventType,
    string OriginTopic,
    int OriginPartition,
    long OriginOffset,
    string Error,
    string ExceptionType,
    string? Handler,
    int Attempts,
    DateTimeOffset FailedAt,
    DateTimeOffset? ReplayedAt,
    int ReplayCount,
    string? LastReplayError,
    string DeadLetterTopic,
    int DeadLetterPartition,
    long DeadLetterOffset,
    string? Key,
    string Payload,
    IReadOnlyDictionary<string, string> Headers);

/// <summary>What a replay did: <c>processed</c>, or <c>already_processed</c> when the inbox showed every handler had run.</summary>
public sealed record DeadLetterReplay(Guid Id, string Outcome);

internal enum DeadLetterFilter
{
    Pending,
    Replayed,
    All,
}

/// <summary>The outcome of a replay: a result, a failure with the handler's error, or no such dead letter.</summary>
internal abstract record ReplayResult
{
    public sealed record Done(DeadLetterReplay Replay) : ReplayResult;

    public sealed record Failed(string Error, string ExceptionType) : ReplayResult;

    public sealed record NotFound : ReplayResult;
}

/// <summary>Lists, replays and deletes dead letters; what the dead-letter API calls.</summary>
internal interface IDeadLetterService
{
    Task<IReadOnlyList<DeadLetterSummary>> ListAsync(DeadLetterFilter filter, int limit, CancellationToken cancellationToken);

    Task<DeadLetterDetails?> GetAsync(Guid id, CancellationToken cancellationToken);

    Task<ReplayResult> ReplayAsync(Guid id, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken);
}

/// <summary>
/// Dead letters in the service's own database. The consumer stores each message of the dead-letter topic here (once
/// per topic position), so they can be queried, survive the topic's retention and carry their replay history.
/// A replay runs the message through this service's handlers again, locally, with the inbox: only this service's
/// handler failed, so republishing to the origin topic would redeliver it to every other consumer group as well.
/// </summary>
internal sealed partial class DeadLetterService<TContext>(
    IServiceScopeFactory scopes,
    SubscriptionRegistry subscriptions,
    EventDispatcher<TContext> dispatcher,
    IntegrationEventSerializer serializer,
    TimeProvider timeProvider,
    ILogger<DeadLetterService<TContext>> logger) : IDeadLetterService
    where TContext : DbContext
{
    private const int MaxNameLength = 200;

    public async Task StoreAsync(ConsumeResult<string, byte[]> result, CancellationToken cancellationToken)
    {
        var headers = result.Message.Headers;
        string? Header(string name) => EventBusHeaders.Get(headers, name);
        var original = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in headers ?? [])
        {
            if (!header.Key.StartsWith(EventBusHeaders.DeadLetterPrefix, StringComparison.Ordinal))
            {
                original[header.Key] = Encoding.UTF8.GetString(header.GetValueBytes());
            }
        }

        var letter = new DeadLetter
        {
            Id = Guid.CreateVersion7(),
            DeadLetterTopic = result.Topic,
            DeadLetterPartition = result.Partition.Value,
            DeadLetterOffset = result.Offset.Value,
            EventId = Guid.TryParse(Header(EventBusHeaders.EventId), out var eventId) ? eventId : null,
            EventType = Truncate(Header(EventBusHeaders.EventType), MaxNameLength),
            OriginTopic = Header(EventBusHeaders.DeadLetterOriginTopic) ?? "",
            OriginPartition = int.TryParse(Header(EventBusHeaders.DeadLetterOriginPartition), CultureInfo.InvariantCulture, out var partition) ? partition : -1,
            OriginOffset = long.TryParse(Header(EventBusHeaders.DeadLetterOriginOffset), CultureInfo.InvariantCulture, out var offset) ? offset : -1,
            Key = result.Message.Key,
            Payload = result.Message.Value ?? [],
            Headers = JsonSerializer.Serialize(original),
            Error = Header(EventBusHeaders.DeadLetterError) ?? "",
            ExceptionType = Truncate(Header(EventBusHeaders.DeadLetterExceptionType), 500) ?? "",
            Handler = Truncate(Header(EventBusHeaders.DeadLetterHandler), 300),
            Attempts = int.TryParse(Header(EventBusHeaders.DeadLetterAttempts), CultureInfo.InvariantCulture, out var attempts) ? attempts : 0,
            FailedAt = DateTimeOffset.TryParse(Header(EventBusHeaders.DeadLetterTime), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var failedAt)
                ? failedAt.ToUniversalTime()
                : result.Message.Timestamp.UtcDateTime,
            ReceivedAt = timeProvider.GetUtcNow(),
        };

        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        context.Add(letter);
        try
        {
            await context.SaveChangesAsync(cancellationToken);
            LogStored(logger, letter.Id, letter.EventType ?? "(unknown)", letter.OriginTopic, letter.Error);
        }
        catch (DbUpdateException exception) when (exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Delivered again after a rebalance: already stored.
        }
    }

    public async Task<IReadOnlyList<DeadLetterSummary>> ListAsync(DeadLetterFilter filter, int limit, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var query = scope.ServiceProvider.GetRequiredService<TContext>().Set<DeadLetter>().AsNoTracking();
        query = filter switch
        {
            DeadLetterFilter.Pending => query.Where(d => d.ReplayedAt == null),
            DeadLetterFilter.Replayed => query.Where(d => d.ReplayedAt != null),
            _ => query,
        };
        return await query
            .OrderByDescending(d => d.FailedAt).ThenBy(d => d.Id)
            .Take(limit)
            .Select(d => new DeadLetterSummary(d.Id, d.EventId, d.EventType, d.OriginTopic, d.OriginPartition, d.OriginOffset, d.Error,
                d.ExceptionType, d.Handler, d.Attempts, d.FailedAt, d.ReplayedAt, d.ReplayCount, d.LastReplayError))
            .ToListAsync(cancellationToken);
    }

    public async Task<DeadLetterDetails?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var d = await scope.ServiceProvider.GetRequiredService<TContext>().Set<DeadLetter>().AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        return d is null
            ? null
            : new DeadLetterDetails(d.Id, d.EventId, d.EventType, d.OriginTopic, d.OriginPartition, d.OriginOffset, d.Error, d.ExceptionType,
                d.Handler, d.Attempts, d.FailedAt, d.ReplayedAt, d.ReplayCount, d.LastReplayError, d.DeadLetterTopic, d.DeadLetterPartition,
                d.DeadLetterOffset, d.Key, Encoding.UTF8.GetString(d.Payload),
                JsonSerializer.Deserialize<Dictionary<string, string>>(d.Headers) ?? []);
    }

    public async Task<ReplayResult> ReplayAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var letter = await context.Set<DeadLetter>().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (letter is null)
        {
            return new ReplayResult.NotFound();
        }

        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(letter.Headers) ?? [];
        var original = TraceContext.Parse(headers.GetValueOrDefault(EventBusHeaders.TraceParent), headers.GetValueOrDefault(EventBusHeaders.TraceState));
        // A child of the operator's request, linked to the trace the message came with.
        using var span = EventBusTelemetry.ActivitySource.StartActivity(
            $"process {letter.OriginTopic}", ActivityKind.Consumer, parentContext: default,
            links: original == default ? null : [new ActivityLink(original)]);
        span?.SetTag("messaging.system", "kafka");
        span?.SetTag("messaging.operation.type", "process");
        span?.SetTag("messaging.destination.name", letter.OriginTopic);
        span?.SetTag("messaging.message.id", letter.EventId?.ToString());
        span?.SetTag("shop.eventbus.event_type", letter.EventType);
        span?.SetTag("shop.eventbus.replay", true);

        ReplayResult result;
        try
        {
            if (letter.EventType is null || !subscriptions.TryGet(letter.EventType, out var subscription))
            {
                throw new InvalidOperationException($"No handler of this service subscribes to event type '{letter.EventType ?? "(none)"}'.");
            }

            var @event = serializer.Deserialize(letter.Payload, subscription.EventType);
            var outcome = await dispatcher.DispatchAsync(@event, subscription, cancellationToken);
            if (outcome == DispatchOutcome.Processed)
            {
                letter.ReplayedAt = timeProvider.GetUtcNow();
                letter.ReplayCount++;
            }
            else
            {
                // Nothing ran, so nothing is counted: the inbox shows the message was handled (by an earlier replay, or
                // by a redelivery), which only resolves a dead letter still pending.
                letter.ReplayedAt ??= timeProvider.GetUtcNow();
            }

            letter.LastReplayError = null;
            var replay = new DeadLetterReplay(letter.Id, outcome == DispatchOutcome.Processed ? "processed" : "already_processed");
            result = new ReplayResult.Done(replay);
            span?.SetTag("shop.eventbus.outcome", replay.Outcome);
            LogReplayed(logger, letter.Id, letter.EventType, replay.Outcome);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var cause = exception is HandlerFailedException { InnerException: { } inner } ? inner : exception;
            var failure = FailureDescription.Of(cause);
            letter.LastReplayError = failure.Error;
            letter.ReplayCount++;
            result = new ReplayResult.Failed(failure.Error, failure.ExceptionType);
            span?.SetStatus(ActivityStatusCode.Error, failure.Error);
            span?.AddException(cause);
            LogReplayFailed(logger, exception, letter.Id, letter.EventType ?? "(none)");
        }

        await context.SaveChangesAsync(cancellationToken);
        return result;
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var deleted = await scope.ServiceProvider.GetRequiredService<TContext>().Set<DeadLetter>()
            .Where(d => d.Id == id)
            .ExecuteDeleteAsync(cancellationToken);
        return deleted > 0;
    }

    private static string? Truncate(string? value, int length) => value is { Length: var l } && l > length ? value[..length] : value;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored dead letter {Id} ({EventType} from {Topic}): {Error}")]
    private static partial void LogStored(ILogger logger, Guid id, string eventType, string topic, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed dead letter {Id} ({EventType}): {Outcome}")]
    private static partial void LogReplayed(ILogger logger, Guid id, string eventType, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replaying dead letter {Id} ({EventType}) failed")]
    private static partial void LogReplayFailed(ILogger logger, Exception exception, Guid id, string eventType);
}
