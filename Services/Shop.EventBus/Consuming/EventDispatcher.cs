using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Shop.EventBus;

internal enum DispatchOutcome
{
    /// <summary>At least one handler ran and committed.</summary>
    Processed,

    /// <summary>Every handler had already processed this event: nothing changed.</summary>
    Duplicate,
}

/// <summary>A handler threw (or its changes could not be saved); the inner exception is the cause.</summary>
internal sealed class HandlerFailedException(string handler, Exception inner)
    : Exception($"{handler} failed: {inner.Message}", inner)
{
    public string Handler { get; } = handler;
}

/// <summary>
/// Runs each handler of an event in its own transaction on <typeparamref name="TContext"/>: insert the inbox record
/// (event id, handler) first, run the handler, save its changes, commit. If the record already exists the handler
/// is skipped, so a redelivered event changes nothing. Inserting first also makes a concurrent second delivery wait
/// on the first one's row lock and then find it committed.
/// </summary>
internal sealed class EventDispatcher<TContext>(IServiceScopeFactory scopes, TimeProvider timeProvider) where TContext : DbContext
{
    private string? _insertInbox;

    public async Task<DispatchOutcome> DispatchAsync(IntegrationEvent @event, EventSubscription subscription, CancellationToken cancellationToken)
    {
        var processed = false;
        foreach (var handler in subscription.Handlers)
        {
            processed |= await RunAsync(@event, subscription.Name, handler, cancellationToken);
        }

        return processed ? DispatchOutcome.Processed : DispatchOutcome.Duplicate;
    }

    private async Task<bool> RunAsync(IntegrationEvent @event, string eventType, HandlerRegistration handler, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var insertInbox = _insertInbox ??=
            $"INSERT INTO {EventBusTables.From(context).Inbox} (event_id, handler, event_type, processed_at) VALUES ({{0}}, {{1}}, {{2}}, {{3}}) ON CONFLICT DO NOTHING";

        // A service that enables EF Core's retrying strategy needs the transaction inside it; without one this just runs.
        // The transaction is all or nothing: EF Core's savepoint around SaveChanges would only add two round trips.
        context.Database.AutoSavepointsEnabled = false;
        var strategy = context.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async token =>
        {
            context.ChangeTracker.Clear();
            await using var transaction = await context.Database.BeginTransactionAsync(token);
            var recorded = await context.Database.ExecuteSqlRawAsync(
                insertInbox, [@event.Id, handler.Name, eventType, timeProvider.GetUtcNow()], token);
            if (recorded == 0)
            {
                return false;
            }

            await InvokeAsync(handler, scope.ServiceProvider, context, @event, token);
            await transaction.CommitAsync(token);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Handles several events of one partition in one transaction: one statement records all their inbox entries,
    /// then each new (event, handler) pair runs in order, its changes saved before the next one starts so that it sees
    /// them, and one commit ends it. All or nothing: if anything fails, nothing is kept and the caller handles the
    /// events one at a time, each with its own retries and dead-lettering.
    /// </summary>
    /// <param name="enter">
    /// Called before an event's handlers run: starts the event's processing span, which is current while they run. The
    /// caller ends the spans once the outcome is known.
    /// </param>
    /// <returns>For each event, whether any of its handlers ran (false: all had processed it before).</returns>
    public async Task<bool[]> DispatchBatchAsync(
        IReadOnlyList<(IntegrationEvent Event, EventSubscription Subscription)> batch,
        Func<int, Activity?> enter,
        CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        context.Database.AutoSavepointsEnabled = false;
        var inbox = EventBusTables.From(context).Inbox;
        var strategy = context.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async token =>
        {
            context.ChangeTracker.Clear();
            await using var transaction = await context.Database.BeginTransactionAsync(token);
            var recorded = await RecordInboxAsync(context, inbox, batch, token);
            var processed = new bool[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                var (@event, subscription) = batch[i];
                var outer = Activity.Current;
                enter(i);
                foreach (var handler in subscription.Handlers)
                {
                    // Removed once run: a batch can hold the same event twice (published again after a relay crash).
                    if (!recorded.Remove((@event.Id, handler.Name)))
                    {
                        continue;
                    }

                    await InvokeAsync(handler, scope.ServiceProvider, context, @event, token);
                    processed[i] = true;
                }

                Activity.Current = outer;
            }

            await transaction.CommitAsync(token);
            return processed;
        }, cancellationToken);
    }

    /// <summary>Runs a handler and saves its changes; what goes wrong in either is the handler's failure.</summary>
    private static async Task InvokeAsync(
        HandlerRegistration handler, IServiceProvider services, TContext context, IntegrationEvent @event, CancellationToken cancellationToken)
    {
        try
        {
            await handler.Invoke(services, @event, cancellationToken);
            await context.SaveChangesAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new HandlerFailedException(handler.Name, exception);
        }
    }

    /// <summary>Inserts the inbox records of every (event, handler) pair of the batch in one statement; returns the new pairs.</summary>
    private async Task<HashSet<(Guid, string)>> RecordInboxAsync(
        TContext context, string inbox, IReadOnlyList<(IntegrationEvent Event, EventSubscription Subscription)> batch, CancellationToken cancellationToken)
    {
        var pairs = batch.SelectMany(b => b.Subscription.Handlers.Select(h => (b.Event.Id, Handler: h.Name, EventType: b.Subscription.Name))).ToList();
        await using var command = context.Database.GetDbConnection().CreateCommand();
        command.Transaction = context.Database.CurrentTransaction!.GetDbTransaction();
        command.CommandText =
            $"""
            INSERT INTO {inbox} (event_id, handler, event_type, processed_at)
            SELECT pair.event_id, pair.handler, pair.event_type, $4 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS pair (event_id, handler, event_type)
            ON CONFLICT DO NOTHING
            RETURNING event_id, handler
            """;
        command.Parameters.Add(new NpgsqlParameter { Value = pairs.Select(p => p.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = pairs.Select(p => p.Handler).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = pairs.Select(p => p.EventType).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = timeProvider.GetUtcNow() });
        var recorded = new HashSet<(Guid, string)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded.Add((reader.GetGuid(0), reader.GetString(1)));
        }

        return recorded;
    }
}
