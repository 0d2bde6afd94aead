using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Shop.EventBus;

/// <summary>
/// Publishes the outbox of <typeparamref name="TContext"/> to Kafka.
/// </summary>
/// <remarks>
/// <para>
/// One replica relays at a time: the one holding a PostgreSQL advisory lock on its own connection. The others stand
/// by, try to take the lock every <see cref="EventBusOptions.RelayPollInterval"/>, and forward commits made in their
/// process to the leader with <c>NOTIFY</c>; the leader listens on a second connection once it sees another relay of
/// its outbox connected (it looks every <see cref="ReplicaCheckInterval"/>; a lone replica needs no listener). A single
/// relay reading in sequence order is what keeps the events of one partition key in commit order; if the leader dies,
/// its connection closes, the lock is released and a standby takes over within one poll interval, starting from the
/// first row not marked sent.
/// </para>
/// <para>
/// The leader reads a batch of pending rows, produces them in order (acks=all, idempotent producer: per partition no
/// reordering or duplicates on retry), waits for every acknowledgement and marks the acknowledged rows sent. A crash
/// between publishing and marking republishes those rows; consumers' inboxes absorb the duplicates. Rows Kafka does
/// not acknowledge stay pending and the batch is retried with exponential backoff.
/// </para>
/// <para>
/// Under load the marks ride with the next read: one round trip marks what was acknowledged and reads what is pending
/// (the mark runs first, so the read does not see those rows again). When no commit arrives within
/// <see cref="MarkDelay"/> the marks go alone, and they are always written before a backlog count, a clean-up, a
/// retry's wait or the end of the lead. A crash with marks in hand republishes at most that one batch, as a crash
/// between publishing and marking always could.
/// </para>
/// </remarks>
internal sealed partial class OutboxRelay<TContext>(
    IServiceProvider services,
    OutboxSignal<TContext> signal,
    IProducer<string, byte[]> producer,
    TopicManager topics,
    EventBusTelemetry telemetry,
    IOptions<EventBusOptions> options,
    TimeProvider timeProvider,
    ILogger<OutboxRelay<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private static readonly string ContextName = typeof(TContext).Name;

    /// <summary>The application name of the relay's sessions: replicas of one service's relay find each other by it.</summary>
    internal static readonly string ApplicationName = $"Shop.EventBus relay ({ContextName})";
    private static readonly TimeSpan BacklogRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often a leader without a listener looks for another replica's relay.</summary>
    internal static readonly TimeSpan ReplicaCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long acknowledged rows wait for the next read to carry their marks before they are marked alone.</summary>
    internal static readonly TimeSpan MarkDelay = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan FirstCleanupDelay = TimeSpan.FromMinutes(1);
    private const int CleanupBatchSize = 5000;

    // Kafka not acknowledging batches, for the log: once, not once per retry.
    private readonly Outage _publishing = new();

    // The database not answering the relay, for the log: once, not once per reconnect.
    private readonly Outage _database = new();

    // Read when first used, so a bad setting fails in the host's start-up validation with its own message.
    private EventBusOptions Settings => options.Value;

    private sealed record PendingEvent(
        long Sequence, Guid EventId, string EventType, string Topic, string PartitionKey, string Payload,
        string? TraceParent, string? TraceState, DateTimeOffset CreatedAt);

    /// <summary>
    /// Checks the model before anything runs: without the bus's tables the service could neither publish nor handle
    /// events, and saying so at start beats failing on the first message.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        using (var scope = services.CreateScope())
        {
            _ = EventBusTables.From(scope.ServiceProvider.GetRequiredService<TContext>());
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The loop runs for the life of the host; host start must not wait for its first database round trip.
        await Task.Yield();
        Activity.Current = null;

        NpgsqlDataSource? dataSource = null;
        EventBusTables? tables = null;
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (dataSource is null || tables is null)
                    {
                        (dataSource, tables) = CreateDataSource();
                    }

                    await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                    failures = 0;
                    if (_database.Succeeded(timeProvider) is { } outage)
                    {
                        LogDatabaseBack(logger, ContextName, outage.Duration.TotalSeconds, outage.Repeats);
                    }

                    while (!stoppingToken.IsCancellationRequested)
                    {
                        if (await TryTakeLeadAsync(connection, tables, stoppingToken))
                        {
                            LogLeading(logger, ContextName);
                            await LeadAsync(dataSource, connection, tables, stoppingToken);
                        }

                        telemetry.ClearBacklog(ContextName);
                        await StandByAsync(connection, tables, stoppingToken);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception exception)
                {
                    telemetry.ClearBacklog(ContextName);
                    failures++;
                    var delay = Backoff.Delay(failures, Settings.RelayRetryDelay, Settings.RelayMaxRetryDelay);
                    if (exception is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable })
                    {
                        LogNoTable(logger, ContextName, delay.TotalMilliseconds);
                    }
                    else
                    {
                        _database.Report(
                            timeProvider,
                            first: () => LogDatabaseFailed(logger, exception, ContextName, delay.TotalMilliseconds, Outage.SummaryInterval.TotalSeconds),
                            again: () => LogDatabaseFailedAgain(logger, ContextName, delay.TotalMilliseconds, exception.Message),
                            summary: (count, window) => LogDatabaseFailures(logger, ContextName, count, window.TotalSeconds, exception.Message));
                    }

                    await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            telemetry.ClearBacklog(ContextName);
            if (dataSource is not null)
            {
                await dataSource.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The relay's own connections: unpooled, so closing one ends its session and releases the leader's lock; not
    /// traced, or every idle poll would be a root span of its own.
    /// </summary>
    private (NpgsqlDataSource, EventBusTables) CreateDataSource()
    {
        using var scope = services.CreateScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var tables = EventBusTables.From(context);
        var builder = new NpgsqlDataSourceBuilder(context.Database.GetConnectionString());
        builder.ConnectionStringBuilder.Pooling = false;
        builder.ConnectionStringBuilder.ApplicationName = ApplicationName;
        // The listening connection idles for long stretches: keepalives notice a server that went away.
        builder.ConnectionStringBuilder.KeepAlive = 30;
        // The relay only writes "sent" marks and deletes old rows: a mark lost in a server crash means the event is
        // published again, which consumers' inboxes absorb, so its commits need not wait for the WAL to reach disk.
        builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c synchronous_commit=off".Trim();
        builder.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => false)
            .ConfigureBatchFilter(_ => false)
            .EnablePhysicalOpenTracing(false));
        return (builder.Build(), tables);
    }

    private static async Task<bool> TryTakeLeadAsync(NpgsqlConnection connection, EventBusTables tables, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = tables.RelayLockKey });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Waits one poll interval, forwarding this process's commits to the leader.</summary>
    private async Task StandByAsync(NpgsqlConnection connection, EventBusTables tables, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        while (Settings.RelayPollInterval - timeProvider.GetElapsedTime(started) is { Ticks: > 0 } remaining)
        {
            if (await signal.WaitAsync(remaining, cancellationToken))
            {
                await using var command = new NpgsqlCommand($"NOTIFY {tables.NotifyChannel}", connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    private async Task LeadAsync(NpgsqlDataSource dataSource, NpgsqlConnection connection, EventBusTables tables, CancellationToken stoppingToken)
    {
        using var lease = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // Only other replicas' commits need a listening connection (this process's own commits pulse the signal
        // directly): a lone replica keeps one connection to PostgreSQL instead of two, until another relay connects.
        Task? listener = null;
        var lastReplicaCheck = long.MinValue;
        var publishFailures = 0;
        var lastBacklog = long.MinValue;
        var nextCleanup = timeProvider.GetUtcNow() + (FirstCleanupDelay < Settings.CleanupInterval ? FirstCleanupDelay : Settings.CleanupInterval);
        bool IsDue(long last, TimeSpan interval) => last == long.MinValue || timeProvider.GetElapsedTime(last) >= interval;
        // Sequences Kafka acknowledged that are not marked sent yet (see the remarks).
        var unmarked = new List<long>();
        try
        {
            while (true)
            {
                if (listener is null && IsDue(lastReplicaCheck, ReplicaCheckInterval))
                {
                    lastReplicaCheck = timeProvider.GetTimestamp();
                    if (await AnotherRelayConnectedAsync(connection, lease.Token))
                    {
                        // It pulses the signal once it listens: what the other replica committed before is read then.
                        listener = ListenAsync(dataSource, tables.NotifyChannel, lease);
                    }
                }

                var batch = await ReadBatchAsync(connection, tables, unmarked, lease.Token);
                if (batch.Count > 0)
                {
                    var started = timeProvider.GetTimestamp();
                    var (sent, error) = await PublishAsync(batch, lease.Token);
                    unmarked.AddRange(sent);
                    if (sent.Count > 0)
                    {
                        LogPublished(logger, sent.Count, ContextName, timeProvider.GetElapsedTime(started).TotalMilliseconds);
                    }

                    if (error is not null)
                    {
                        publishFailures++;
                        var delay = Backoff.Delay(publishFailures, Settings.RelayRetryDelay, Settings.RelayMaxRetryDelay);
                        var failed = batch.Count - sent.Count;
                        _publishing.Report(
                            timeProvider,
                            first: () => LogPublishFailed(logger, failed, batch.Count, ContextName, delay.TotalMilliseconds, Outage.SummaryInterval.TotalSeconds, error.Message),
                            again: () => LogPublishFailedAgain(logger, failed, batch.Count, ContextName, delay.TotalMilliseconds, error.Message),
                            summary: (count, window) => LogPublishFailures(logger, ContextName, count, window.TotalSeconds, error.Message));

                        await MarkSentAsync(connection, tables, unmarked);
                        await RefreshBacklogAsync(connection, tables, lease.Token);
                        lastBacklog = timeProvider.GetTimestamp();
                        await Task.Delay(delay, timeProvider, lease.Token);
                        continue;
                    }

                    publishFailures = 0;
                    if (_publishing.Succeeded(timeProvider) is { } outage)
                    {
                        LogPublishingAgain(logger, ContextName, outage.Duration.TotalSeconds, outage.Repeats);
                    }

                    if (batch.Count == Settings.RelayBatchSize)
                    {
                        continue;
                    }
                }

                // A commit that comes soon carries the marks with its read; otherwise they go alone. (Not when the backlog
                // count or the clean-up is due: under steady load commits would always come soon.)
                if (unmarked.Count > 0 && !IsDue(lastBacklog, BacklogRefreshInterval) && timeProvider.GetUtcNow() < nextCleanup
                    && await signal.WaitAsync(MarkDelay, lease.Token))
                {
                    continue;
                }

                await MarkSentAsync(connection, tables, unmarked);
                if (IsDue(lastBacklog, BacklogRefreshInterval))
                {
                    await RefreshBacklogAsync(connection, tables, lease.Token);
                    lastBacklog = timeProvider.GetTimestamp();
                }

                if (timeProvider.GetUtcNow() >= nextCleanup)
                {
                    await CleanUpAsync(connection, tables, lease.Token);
                    nextCleanup = timeProvider.GetUtcNow() + Settings.CleanupInterval;
                }

                var wait = listener is null && ReplicaCheckInterval < Settings.RelayPollInterval ? ReplicaCheckInterval : Settings.RelayPollInterval;
                await signal.WaitAsync(wait, lease.Token);
            }
        }
        catch (OperationCanceledException) when (lease.IsCancellationRequested && !stoppingToken.IsCancellationRequested && listener is not null)
        {
            // Only the listener ends the lease early: surface its failure, so the relay reconnects.
            await listener;
            throw;
        }
        finally
        {
            // What Kafka acknowledged is marked even while the host stops; if the connection is gone, those rows are
            // published again by the next leader.
            if (unmarked.Count > 0 && connection.FullState == System.Data.ConnectionState.Open)
            {
                await MarkSentAsync(connection, tables, unmarked).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            await lease.CancelAsync();
            if (listener is not null)
            {
                await listener.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Whether another session of this outbox's relay (a standby replica; same database, same application name) is
    /// connected. Sessions of the same role see each other's application names in pg_stat_activity.
    /// </summary>
    private static async Task<bool> AnotherRelayConnectedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() " +
            "AND application_name = current_setting('application_name') AND pid <> pg_backend_pid())", connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Listens for other replicas' commits on a second connection while this one leads. If that connection fails,
    /// the lease ends and the relay reconnects from scratch.
    /// </summary>
    private async Task ListenAsync(NpgsqlDataSource dataSource, string channel, CancellationTokenSource lease)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(lease.Token);
            connection.Notification += (_, _) => signal.Pulse();
            await using (var command = new NpgsqlCommand($"LISTEN {channel}", connection))
            {
                await command.ExecuteNonQueryAsync(lease.Token);
            }

            // Commits that happened before LISTEN took effect are found by the next read.
            signal.Pulse();
            while (true)
            {
                await connection.WaitAsync(lease.Token);
            }
        }
        catch (OperationCanceledException) when (lease.IsCancellationRequested)
        {
        }
        catch
        {
            await lease.CancelAsync();
            throw;
        }
    }

    /// <summary>Marks <paramref name="unmarked"/> sent, if any, and forgets them, and reads the next pending rows, in one round trip.</summary>
    private async Task<List<PendingEvent>> ReadBatchAsync(NpgsqlConnection connection, EventBusTables tables, List<long> unmarked, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlBatch(connection);
        if (unmarked.Count > 0)
        {
            command.BatchCommands.Add(MarkSentCommand(tables, unmarked));
        }

        command.BatchCommands.Add(new NpgsqlBatchCommand(
            $"""
            SELECT sequence, event_id, event_type, topic, partition_key, payload, trace_parent, trace_state, created_at
            FROM {tables.Outbox} WHERE sent_at IS NULL ORDER BY sequence LIMIT $1
            """)
        {
            Parameters = { new NpgsqlParameter { Value = Settings.RelayBatchSize } },
        });
        // Not cancellable while it carries marks: what Kafka acknowledged is marked even while the host stops.
        await using var reader = await command.ExecuteReaderAsync(unmarked.Count > 0 ? CancellationToken.None : cancellationToken);
        var batch = new List<PendingEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            batch.Add(new PendingEvent(
                reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetFieldValue<DateTimeOffset>(8)));
        }

        // Forgotten only once the whole batch has run: if it failed, the marks are written again (or the rows republished).
        unmarked.Clear();
        return batch;
    }

    /// <summary>Produces the batch in sequence order and waits for every acknowledgement.</summary>
    /// <returns>The sequences Kafka acknowledged, and the first error if any event was not.</returns>
    private async Task<(List<long> Sent, Exception? Error)> PublishAsync(List<PendingEvent> batch, CancellationToken cancellationToken)
    {
        try
        {
            await topics.EnsureAsync(batch.Select(e => e.Topic), cancellationToken);
        }
        catch (KafkaException exception)
        {
            telemetry.PublishFailed.Add(batch.Count);
            return ([], exception);
        }

        var deliveries = new List<(PendingEvent Event, Activity? Span, Task<DeliveryResult<string, byte[]>> Delivery)>(batch.Count);
        foreach (var pending in batch)
        {
            var span = TraceContext.StartSpan($"send {pending.Topic}", ActivityKind.Producer, TraceContext.Parse(pending.TraceParent, pending.TraceState));
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag("messaging.system", "kafka");
                span.SetTag("messaging.operation.type", "send");
                span.SetTag("messaging.operation.name", "send");
                span.SetTag("messaging.destination.name", pending.Topic);
                span.SetTag("messaging.message.id", pending.EventId.ToString());
                span.SetTag("messaging.kafka.message.key", pending.PartitionKey);
                span.SetTag("shop.eventbus.event_type", pending.EventType);
            }

            var headers = new Headers();
            EventBusHeaders.Set(headers, EventBusHeaders.EventType, pending.EventType);
            EventBusHeaders.Set(headers, EventBusHeaders.EventId, pending.EventId.ToString());
            EventBusHeaders.Set(headers, EventBusHeaders.ContentType, EventBusHeaders.JsonContentType);
            // The consumer's span is the child of this send span; without a listener, of the code that saved the event.
            if ((span?.Id ?? pending.TraceParent) is { } traceParent)
            {
                EventBusHeaders.Set(headers, EventBusHeaders.TraceParent, traceParent);
                if ((span is null ? pending.TraceState : span.TraceStateString) is { Length: > 0 } traceState)
                {
                    EventBusHeaders.Set(headers, EventBusHeaders.TraceState, traceState);
                }
            }

            Task<DeliveryResult<string, byte[]>> delivery;
            try
            {
                // Enqueued synchronously, in order; the task completes on Kafka's acknowledgement.
                delivery = producer.ProduceAsync(pending.Topic, new Message<string, byte[]>
                {
                    Key = pending.PartitionKey,
                    Value = Encoding.UTF8.GetBytes(pending.Payload),
                    Headers = headers,
                }, CancellationToken.None);
            }
            catch (Exception exception)
            {
                delivery = Task.FromException<DeliveryResult<string, byte[]>>(exception);
            }

            deliveries.Add((pending, span, delivery));
            Activity.Current = null;
        }

        var sent = new List<long>(batch.Count);
        Exception? error = null;
        foreach (var (pending, span, delivery) in deliveries)
        {
            try
            {
                var result = await delivery;
                sent.Add(pending.Sequence);
                span?.SetTag("messaging.destination.partition.id", result.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
                span?.SetTag("messaging.kafka.offset", result.Offset.Value);
                var tags = new TagList { { "messaging.destination.name", pending.Topic }, { "shop.eventbus.event_type", pending.EventType } };
                telemetry.Published.Add(1, tags);
                telemetry.OutboxDelay.Record((timeProvider.GetUtcNow() - pending.CreatedAt).TotalSeconds, tags);
            }
            catch (Exception exception)
            {
                error ??= exception;
                span?.SetStatus(ActivityStatusCode.Error, exception.Message);
                span?.AddException(exception);
                telemetry.PublishFailed.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", pending.Topic));
            }
            finally
            {
                span?.Dispose();
            }
        }

        Activity.Current = null;
        return (sent, error);
    }

    /// <summary>
    /// Marks <paramref name="sequences"/> sent, if any, and forgets them. Not cancellable: what Kafka acknowledged is
    /// marked even while the host stops.
    /// </summary>
    private async Task MarkSentAsync(NpgsqlConnection connection, EventBusTables tables, List<long> sequences)
    {
        if (sequences.Count == 0)
        {
            return;
        }

        await using var command = new NpgsqlBatch(connection) { BatchCommands = { MarkSentCommand(tables, sequences) } };
        await command.ExecuteNonQueryAsync(CancellationToken.None);
        sequences.Clear();
    }

    private NpgsqlBatchCommand MarkSentCommand(EventBusTables tables, List<long> sequences) =>
        new($"UPDATE {tables.Outbox} SET sent_at = $1 WHERE sequence = ANY($2)")
        {
            Parameters =
            {
                new NpgsqlParameter { Value = timeProvider.GetUtcNow() },
                new NpgsqlParameter { Value = sequences.ToArray() },
            },
        };

    private async Task RefreshBacklogAsync(NpgsqlConnection connection, EventBusTables tables, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*), min(created_at) FROM {tables.Outbox} WHERE sent_at IS NULL", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var count = reader.GetInt64(0);
        var oldest = reader.IsDBNull(1) ? TimeSpan.Zero : timeProvider.GetUtcNow() - reader.GetFieldValue<DateTimeOffset>(1);
        telemetry.SetBacklog(ContextName, count, oldest < TimeSpan.Zero ? TimeSpan.Zero : oldest);
    }

    /// <summary>Deletes published outbox rows and inbox records older than the retention, a bounded batch at a time.</summary>
    private async Task CleanUpAsync(NpgsqlConnection connection, EventBusTables tables, CancellationToken cancellationToken)
    {
        var cutoff = timeProvider.GetUtcNow() - Settings.Retention;
        // A batch, not one command of two statements: PostgreSQL refuses several statements in one prepared command,
        // which a command with positional parameters is.
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(
                    $"DELETE FROM {tables.Outbox} WHERE sequence IN (SELECT sequence FROM {tables.Outbox} WHERE sent_at < $1 ORDER BY sent_at LIMIT {CleanupBatchSize})")
                {
                    Parameters = { new NpgsqlParameter { Value = cutoff } },
                },
                new NpgsqlBatchCommand(
                    $"DELETE FROM {tables.Inbox} WHERE (event_id, handler) IN (SELECT event_id, handler FROM {tables.Inbox} WHERE processed_at < $1 ORDER BY processed_at LIMIT {CleanupBatchSize})")
                {
                    Parameters = { new NpgsqlParameter { Value = cutoff } },
                },
            },
        };
        var deleted = await batch.ExecuteNonQueryAsync(cancellationToken);
        if (deleted > 0)
        {
            LogCleanedUp(logger, deleted, ContextName, Settings.Retention.TotalDays);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This replica now relays the outbox of {Context}")]
    private static partial void LogLeading(ILogger logger, string context);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} events from the outbox of {Context} in {ElapsedMs:0.0} ms")]
    private static partial void LogPublished(ILogger logger, int count, string context, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka did not acknowledge {Failed} of {Count} events from the outbox of {Context}; they stay pending and are retried in {DelayMs:0} ms. Until Kafka takes them, further failures are logged at Debug and counted every {SummarySeconds:0} s: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, int failed, int count, string context, double delayMs, double summarySeconds, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka again did not acknowledge {Failed} of {Count} events from the outbox of {Context}; retrying in {DelayMs:0} ms: {Reason}")]
    private static partial void LogPublishFailedAgain(ILogger logger, int failed, int count, string context, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka still does not take the events from the outbox of {Context}: {Count} more failed batches in the last {Seconds:0} s; the latest: {Reason}")]
    private static partial void LogPublishFailures(ILogger logger, string context, int count, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka takes the events from the outbox of {Context} again, after {Seconds:0.0} s and {Repeats} further failed batches")]
    private static partial void LogPublishingAgain(ILogger logger, string context, double seconds, int repeats);

    [LoggerMessage(Level = LogLevel.Information, Message = "The outbox table of {Context} does not exist yet (are its migrations applied?); looking again in {DelayMs:0} ms")]
    private static partial void LogNoTable(ILogger logger, string context, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The outbox relay of {Context} lost its database connection; reconnecting in {DelayMs:0} ms. Until it reconnects, further failures are logged at Debug and counted every {SummarySeconds:0} s")]
    private static partial void LogDatabaseFailed(ILogger logger, Exception exception, string context, double delayMs, double summarySeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The outbox relay of {Context} could not reconnect to its database; trying again in {DelayMs:0} ms: {Reason}")]
    private static partial void LogDatabaseFailedAgain(ILogger logger, string context, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The outbox relay of {Context} still cannot reach its database: {Count} more failures in the last {Seconds:0} s; the latest: {Reason}")]
    private static partial void LogDatabaseFailures(ILogger logger, string context, int count, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The outbox relay of {Context} reconnected to its database, after {Seconds:0.0} s and {Repeats} further failures")]
    private static partial void LogDatabaseBack(ILogger logger, string context, double seconds, int repeats);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} outbox and inbox rows of {Context} older than {Days:0.#} days")]
    private static partial void LogCleanedUp(ILogger logger, int count, string context, double days);
}
