using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Shop.EventBus;

/// <summary>
/// The service's consumer: one member of the consumer group <see cref="EventBusOptions.GroupId"/>, subscribed to the
/// topics of its handlers' events and to its own dead-letter topic. Each partition's messages are handled one at a
/// time, in offset order; different partitions are handled side by side (see <see cref="ConsumerAssignment"/>). A
/// message's offset is committed only once it is handled (its transaction committed), dead-lettered or found to need
/// no handler, so a crash redelivers at most the few messages handled since the last commit, and the inbox absorbs them.
/// </summary>
/// <remarks>
/// A handler that throws is retried after an exponential backoff, in place (so later messages of the partition wait
/// and keep their order), up to <see cref="EventBusOptions.MaxDeliveryAttempts"/> times; then the message goes to the
/// dead-letter topic with the error and its origin in headers, and the partition moves on. A payload that cannot be
/// read, and a handler's <see cref="NonRetryableEventException"/>, are dead-lettered at once. When the database itself
/// is unavailable the message is retried until it is back, without using up attempts.
/// </remarks>
internal sealed partial class EventConsumer<TContext>(
    IConsumer<string, byte[]> consumer,
    IProducer<string, byte[]> producer,
    ConsumerAssignment assignment,
    SubscriptionRegistry subscriptions,
    OutboxWriter topicsOfEvents,
    TopicManager topics,
    EventDispatcher<TContext> dispatcher,
    DeadLetterService<TContext> deadLetters,
    IntegrationEventSerializer serializer,
    EventBusTelemetry telemetry,
    IOptions<EventBusOptions> options,
    TimeProvider timeProvider,
    ILogger<EventConsumer<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    // Kafka or the database failing each kind of infrastructure retry, for the log: once, not once per retry.
    private readonly ConcurrentDictionary<string, Outage> _outages = new(StringComparer.Ordinal);

    /// <summary>The infrastructure retry of handling an event while its database does not answer (its log's words).</summary>
    private const string ReachTheDatabase = "reach the database to handle events";

    // Read when first used, so a bad setting fails in the host's start-up validation with its own message.
    private EventBusOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (subscriptions.IsEmpty)
        {
            LogNoSubscriptions(logger, Settings.GroupId);
            return;
        }

        await Task.Yield();
        var subscribed = subscriptions.EventTypes.Select(topicsOfEvents.TopicOf).Append(Settings.DeadLetterTopic).Distinct().ToList();
        try
        {
            await RetryInfrastructureAsync(() => topics.EnsureAsync(subscribed, stoppingToken), "create its topics", stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        // Consume blocks; its own thread keeps it off the thread pool for the life of the host.
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Consume(subscribed, stoppingToken);
                finished.TrySetResult();
            }
            catch (Exception exception)
            {
                finished.TrySetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = $"Shop.EventBus consumer ({Settings.GroupId})",
        };
        thread.Start();
        await finished.Task;
    }

    /// <summary>Polls Kafka and hands messages to the partitions' workers until the host stops.</summary>
    private void Consume(List<string> subscribed, CancellationToken stoppingToken)
    {
        var topicConcurrency = Settings.TopicConcurrency.ToDictionary(t => Settings.TopicPrefix + t.Key, t => t.Value, StringComparer.Ordinal);
        foreach (var topic in topicConcurrency.Keys.Except(subscribed))
        {
            LogLimitedTopicNotConsumed(logger, topic);
        }

        assignment.Start(HandleBatchAsync, Settings.MaxConcurrency, topicConcurrency, Settings.MaxBatchSize, logger, stoppingToken);
        consumer.Subscribe(subscribed);
        LogSubscribed(logger, Settings.GroupId, string.Join(", ", subscribed));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(PollTimeout) is { Message: not null } result)
                    {
                        assignment.Enqueue(consumer, result);
                    }
                }
                catch (ConsumeException exception) when (!exception.Error.IsFatal)
                {
                    LogConsumeError(logger, exception.Error.Code, exception.Error.Reason);
                }

                assignment.Maintain(consumer);
            }
        }
        catch (Exception exception)
        {
            LogStopped(logger, exception, Settings.GroupId);
            throw;
        }
        finally
        {
            try
            {
                assignment.Stop(consumer);
                // Leaves the group at once, so the other replicas take over this one's partitions without waiting
                // for the session to time out.
                consumer.Close();
            }
            catch (KafkaException exception)
            {
                LogCloseFailed(logger, exception.Error.Reason);
            }
        }
    }

    private async Task HandleAsync(ConsumeResult<string, byte[]> result, CancellationToken cancellationToken)
    {
        if (result.Topic == Settings.DeadLetterTopic)
        {
            try
            {
                await RetryInfrastructureAsync(() => deadLetters.StoreAsync(result, cancellationToken), "store a dead letter", cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // It stays in the dead-letter topic; one that cannot be stored must not stop the service's consumer.
                LogDeadLetterNotStored(logger, exception, result.Topic, result.Partition.Value, result.Offset.Value);
            }

            return;
        }

        var headers = result.Message.Headers;
        var eventType = EventBusHeaders.Get(headers, EventBusHeaders.EventType);
        if (eventType is null || !subscriptions.TryGet(eventType, out var subscription))
        {
            Ignore(result, eventType);
            return;
        }

        var started = timeProvider.GetTimestamp();
        using var span = StartProcessSpan(result, eventType);
        var outcome = await ProcessAsync(result, subscription, span, cancellationToken);
        RecordOutcome(span, outcome, result.Topic, eventType, timeProvider.GetElapsedTime(started));
    }

    /// <summary>Topics are streams: most of a stream's event types concern other services.</summary>
    private void Ignore(ConsumeResult<string, byte[]> result, string? eventType)
    {
        telemetry.Consumed.Add(1, Outcome("ignored", result.Topic, eventType));
        LogIgnored(logger, eventType ?? "(none)", result.Topic, result.Partition.Value, result.Offset.Value);
    }

    private void RecordOutcome(Activity? span, string outcome, string topic, string eventType, TimeSpan elapsed)
    {
        span?.SetTag("shop.eventbus.outcome", outcome);
        var tags = Outcome(outcome, topic, eventType);
        telemetry.Consumed.Add(1, tags);
        telemetry.ProcessDuration.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary>
    /// Handles a run of one partition's messages. Two or more events for this service's handlers go through one
    /// transaction (see <see cref="EventDispatcher{TContext}.DispatchBatchAsync"/>); when that fails, or anything in the
    /// run needs special care (a dead letter, an unreadable payload), each message is handled on its own, as always.
    /// </summary>
    private async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<string, byte[]>> results, CancellationToken cancellationToken)
    {
        // A run comes from one partition, so from one topic: dead letters are stored one by one.
        if (results.Count > 1 && results[0].Topic != Settings.DeadLetterTopic && await TryHandleTogetherAsync(results, cancellationToken))
        {
            return;
        }

        foreach (var result in results)
        {
            await HandleAsync(result, cancellationToken);
        }
    }

    private async Task<bool> TryHandleTogetherAsync(IReadOnlyList<ConsumeResult<string, byte[]>> results, CancellationToken cancellationToken)
    {
        var events = new List<(ConsumeResult<string, byte[]> Result, IntegrationEvent Event, EventSubscription Subscription)>(results.Count);
        var ignored = new List<(ConsumeResult<string, byte[]> Result, string? EventType)>();
        foreach (var result in results)
        {
            var eventType = EventBusHeaders.Get(result.Message.Headers, EventBusHeaders.EventType);
            if (eventType is null || !subscriptions.TryGet(eventType, out var subscription))
            {
                ignored.Add((result, eventType));
                continue;
            }

            try
            {
                events.Add((result, serializer.Deserialize(result.Message.Value, subscription.EventType), subscription));
            }
            catch (JsonException)
            {
                return false;
            }
        }

        if (events.Count < 2)
        {
            return false;
        }

        var started = timeProvider.GetTimestamp();
        var spans = new Activity?[events.Count];
        bool[] processed;
        try
        {
            processed = await dispatcher.DispatchBatchAsync(
                [.. events.Select(e => (e.Event, e.Subscription))],
                i => spans[i] = StartProcessSpan(events[i].Result, events[i].Subscription.Name),
                cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Nothing was kept; each message gets its own attempts (and spans) now.
            LogBatchFailed(logger, events.Count, Cause(exception).Message);
            foreach (var span in spans)
            {
                span?.SetTag("shop.eventbus.outcome", "batch_rolled_back");
                span?.Dispose();
            }

            return false;
        }
        catch
        {
            foreach (var span in spans)
            {
                span?.Dispose();
            }

            throw;
        }

        ReportInfrastructureSuccess(ReachTheDatabase);
        var elapsed = timeProvider.GetElapsedTime(started);
        foreach (var (result, eventType) in ignored)
        {
            Ignore(result, eventType);
        }

        for (var i = 0; i < events.Count; i++)
        {
            var (result, @event, subscription) = events[i];
            if (!processed[i])
            {
                LogDuplicate(logger, @event.Id, subscription.Name, result.Topic, result.Partition.Value, result.Offset.Value);
            }

            spans[i]?.SetTag("shop.eventbus.batch.size", events.Count);
            RecordOutcome(spans[i], processed[i] ? "processed" : "duplicate", result.Topic, subscription.Name, elapsed);
            spans[i]?.Dispose();
        }

        return true;
    }

    private Activity? StartProcessSpan(ConsumeResult<string, byte[]> result, string eventType)
    {
        var headers = result.Message.Headers;
        var span = TraceContext.StartSpan($"process {result.Topic}", ActivityKind.Consumer,
            TraceContext.Parse(EventBusHeaders.Get(headers, EventBusHeaders.TraceParent), EventBusHeaders.Get(headers, EventBusHeaders.TraceState)));
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.system", "kafka");
            span.SetTag("messaging.operation.type", "process");
            span.SetTag("messaging.operation.name", "process");
            span.SetTag("messaging.destination.name", result.Topic);
            span.SetTag("messaging.destination.partition.id", result.Partition.Value.ToString(CultureInfo.InvariantCulture));
            span.SetTag("messaging.kafka.offset", result.Offset.Value);
            span.SetTag("messaging.consumer.group.name", Settings.GroupId);
            span.SetTag("messaging.message.id", EventBusHeaders.Get(headers, EventBusHeaders.EventId));
            span.SetTag("messaging.kafka.message.key", result.Message.Key);
            span.SetTag("shop.eventbus.event_type", eventType);
        }

        return span;
    }

    private async Task<string> ProcessAsync(ConsumeResult<string, byte[]> result, EventSubscription subscription, Activity? span, CancellationToken cancellationToken)
    {
        IntegrationEvent @event;
        try
        {
            @event = serializer.Deserialize(result.Message.Value, subscription.EventType);
        }
        catch (JsonException exception)
        {
            // Retrying cannot change the bytes: straight to the dead letters.
            RecordError(span, exception);
            await DeadLetterAsync(result, subscription.Name, exception, attempts: 1, cancellationToken);
            return "dead_lettered";
        }

        var databaseFailures = 0;
        for (var attempt = 1; ; )
        {
            try
            {
                var outcome = await dispatcher.DispatchAsync(@event, subscription, cancellationToken);
                ReportInfrastructureSuccess(ReachTheDatabase);
                if (outcome == DispatchOutcome.Duplicate)
                {
                    LogDuplicate(logger, @event.Id, subscription.Name, result.Topic, result.Partition.Value, result.Offset.Value);
                    return "duplicate";
                }

                return "processed";
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                if (DatabaseFailures.IsTransient(exception))
                {
                    databaseFailures++;
                    var wait = Backoff.Delay(databaseFailures, Settings.RetryDelay, Settings.MaxRetryDelay);
                    LogDatabaseUnavailable(logger, @event.Id, subscription.Name, wait.TotalMilliseconds, exception.Message);
                    ReportInfrastructureFailure(ReachTheDatabase, wait, exception);
                    await Task.Delay(wait, timeProvider, cancellationToken);
                    continue;
                }

                if (attempt >= Settings.MaxDeliveryAttempts || Cause(exception) is NonRetryableEventException)
                {
                    RecordError(span, exception);
                    await DeadLetterAsync(result, subscription.Name, exception, attempt, cancellationToken);
                    return "dead_lettered";
                }

                var delay = Backoff.Delay(attempt, Settings.RetryDelay, Settings.MaxRetryDelay);
                telemetry.Retried.Add(1, new TagList { { "messaging.destination.name", result.Topic }, { "shop.eventbus.event_type", subscription.Name } });
                span?.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection
                {
                    ["shop.eventbus.attempt"] = attempt,
                    ["exception.type"] = Cause(exception).GetType().FullName,
                    ["exception.message"] = Cause(exception).Message,
                }));
                LogRetrying(logger, @event.Id, subscription.Name, attempt, Settings.MaxDeliveryAttempts, delay.TotalMilliseconds, Cause(exception).Message);
                await Task.Delay(delay, timeProvider, cancellationToken);
                attempt++;
            }
        }
    }

    /// <summary>
    /// Sends the message as it was consumed, with its headers plus the error and its origin, to the dead-letter
    /// topic. Kafka being down is waited out: the offset is committed only once the dead letter is safe.
    /// </summary>
    private async Task DeadLetterAsync(ConsumeResult<string, byte[]> result, string eventType, Exception exception, int attempts, CancellationToken cancellationToken)
    {
        var cause = Cause(exception);
        var headers = new Headers();
        foreach (var header in result.Message.Headers ?? [])
        {
            if (!header.Key.StartsWith(EventBusHeaders.DeadLetterPrefix, StringComparison.Ordinal))
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        var failure = FailureDescription.Of(cause);
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterError, failure.Error);
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterExceptionType, failure.ExceptionType);
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterRootError, failure.RootError);
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterRootExceptionType, failure.RootExceptionType);
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterOriginTopic, result.Topic);
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterOriginPartition, result.Partition.Value.ToString(CultureInfo.InvariantCulture));
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterOriginOffset, result.Offset.Value.ToString(CultureInfo.InvariantCulture));
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterAttempts, attempts.ToString(CultureInfo.InvariantCulture));
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterTime, timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterGroup, Settings.GroupId);
        if (exception is HandlerFailedException failed)
        {
            EventBusHeaders.Set(headers, EventBusHeaders.DeadLetterHandler, failed.Handler);
        }

        var message = new Message<string, byte[]> { Key = result.Message.Key, Value = result.Message.Value, Headers = headers };
        await RetryInfrastructureAsync(async () =>
        {
            await topics.EnsureAsync([Settings.DeadLetterTopic], cancellationToken);
            await producer.ProduceAsync(Settings.DeadLetterTopic, message, cancellationToken);
        }, "publish a dead letter", cancellationToken);

        telemetry.DeadLettered.Add(1, new TagList { { "messaging.destination.name", result.Topic }, { "shop.eventbus.event_type", eventType } });
        LogDeadLettered(logger, exception, EventBusHeaders.Get(result.Message.Headers, EventBusHeaders.EventId) ?? "(none)", eventType,
            result.Topic, result.Partition.Value, result.Offset.Value, attempts, Settings.DeadLetterTopic);
    }

    /// <summary>Retries an operation on Kafka or the database until it succeeds or the host stops.</summary>
    private async Task RetryInfrastructureAsync(Func<Task> operation, string what, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                await operation();
                ReportInfrastructureSuccess(what);
                return;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested
                && (exception is KafkaException || DatabaseFailures.IsTransient(exception)))
            {
                var delay = Backoff.Delay(failures, Settings.RetryDelay, Settings.MaxRetryDelay);
                ReportInfrastructureFailure(what, delay, exception);
                await Task.Delay(delay, timeProvider, cancellationToken);
            }
        }
    }

    /// <summary>One more failure to <paramref name="what"/>: a warning when it starts an outage, Debug while it lasts (counted every 30 s).</summary>
    private void ReportInfrastructureFailure(string what, TimeSpan delay, Exception exception)
    {
        _outages.GetOrAdd(what, _ => new Outage()).Report(
            timeProvider,
            first: () => LogInfrastructureRetry(logger, what, delay.TotalMilliseconds, Outage.SummaryInterval.TotalSeconds, exception.Message),
            again: () => LogInfrastructureRetryAgain(logger, what, delay.TotalMilliseconds, exception.Message),
            summary: (count, window) => LogInfrastructureFailures(logger, what, count, window.TotalSeconds, exception.Message));
    }

    /// <summary>It worked: ends the outage of <paramref name="what"/>, if there was one, in one line.</summary>
    private void ReportInfrastructureSuccess(string what)
    {
        if (_outages.TryGetValue(what, out var outage) && outage.Succeeded(timeProvider) is { } over)
        {
            LogInfrastructureBack(logger, what, over.Duration.TotalSeconds, over.Repeats);
        }
    }

    private static Exception Cause(Exception exception) => exception is HandlerFailedException { InnerException: { } inner } ? inner : exception;

    private static void RecordError(Activity? span, Exception exception)
    {
        span?.SetStatus(ActivityStatusCode.Error, Cause(exception).Message);
        span?.AddException(Cause(exception));
    }

    private static TagList Outcome(string outcome, string topic, string? eventType) => new()
    {
        { "messaging.destination.name", topic },
        { "shop.eventbus.event_type", eventType },
        { "shop.eventbus.outcome", outcome },
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer group {Group} has no subscriptions in this service; not consuming")]
    private static partial void LogNoSubscriptions(ILogger logger, string group);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer group {Group} subscribed to {Topics}")]
    private static partial void LogSubscribed(ILogger logger, string group, string topics);

    [LoggerMessage(Level = LogLevel.Warning, Message = "EventBus:TopicConcurrency limits {Topic}, which this service does not consume")]
    private static partial void LogLimitedTopicNotConsumed(ILogger logger, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consume error {Code}: {Reason}")]
    private static partial void LogConsumeError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The consumer of group {Group} stopped")]
    private static partial void LogStopped(ILogger logger, Exception exception, string group);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No handler here for {EventType} at {Topic}[{Partition}]@{Offset}; skipped")]
    private static partial void LogIgnored(ILogger logger, string eventType, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}) at {Topic}[{Partition}]@{Offset} was already processed; skipped")]
    private static partial void LogDuplicate(ILogger logger, Guid eventId, string eventType, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling event {EventId} ({EventType}) failed on attempt {Attempt} of {MaxAttempts}; retrying in {DelayMs:0} ms: {Reason}")]
    private static partial void LogRetrying(ILogger logger, Guid eventId, string eventType, int attempt, int maxAttempts, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database is unavailable while handling event {EventId} ({EventType}); retrying in {DelayMs:0} ms: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Guid eventId, string eventType, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId} ({EventType}) at {Topic}[{Partition}]@{Offset} failed {Attempts} time(s) and was sent to {DeadLetterTopic}")]
    private static partial void LogDeadLettered(ILogger logger, Exception exception, string eventId, string eventType, string topic, int partition, long offset, int attempts, string deadLetterTopic);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not store the dead letter at {Topic}[{Partition}]@{Offset}; it stays in the topic")]
    private static partial void LogDeadLetterNotStored(ILogger logger, Exception exception, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handling {Count} events in one transaction failed ({Reason}); handling them one at a time")]
    private static partial void LogBatchFailed(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not {What}; retrying in {DelayMs:0} ms. Until it works, further failures are logged at Debug and counted every {SummarySeconds:0} s: {Reason}")]
    private static partial void LogInfrastructureRetry(ILogger logger, string what, double delayMs, double summarySeconds, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not {What} again; retrying in {DelayMs:0} ms: {Reason}")]
    private static partial void LogInfrastructureRetryAgain(ILogger logger, string what, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Still cannot {What}: {Count} more failures in the last {Seconds:0} s; the latest: {Reason}")]
    private static partial void LogInfrastructureFailures(ILogger logger, string what, int count, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Could {What} again, after {Seconds:0.0} s and {Repeats} further failures")]
    private static partial void LogInfrastructureBack(ILogger logger, string what, double seconds, int repeats);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the consumer failed: {Reason}")]
    private static partial void LogCloseFailed(ILogger logger, string reason);
}
