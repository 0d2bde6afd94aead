using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
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

            try
            {
                await handler.Invoke(scope.ServiceProvider, @event, token);
                await context.SaveChangesAsync(token);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
            {
                throw new HandlerFailedException(handler.Name, exception);
            }

            await transaction.CommitAsync(token);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Whether the database (not the message) is the problem: the server is unreachable, restarting or overloaded,
    /// the transaction lost a deadlock or serialization race, or the bus's tables are not there yet (the service's
    /// migrations are still running). Such failures are retried without counting as attempts, because
    /// dead-lettering every message during a database outage or a deployment would be wrong.
    /// </summary>
    public static bool IsTransientDatabaseFailure(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException { SqlState: PostgresErrorCodes.UndefinedTable }:
                case NpgsqlException { IsTransient: true }:
                case SocketException:
                    return true;
            }
        }

        return false;
    }
}
