using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Shop.EventBus;

/// <summary>
/// Wakes the relay of <typeparamref name="TContext"/> in this process when a commit carried outbox rows.
/// Pulses coalesce: however many commits happen while the relay works, it looks once more.
/// </summary>
internal sealed class OutboxSignal<TContext> where TContext : DbContext
{
    private readonly Channel<bool> _pulses = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    public void Pulse() => _pulses.Writer.TryWrite(true);

    /// <summary>Waits for a pulse; true if one came, false when the timeout passed.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_pulses.Reader.TryRead(out _))
        {
            return true;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _pulses.Reader.WaitToReadAsync(timer.Token);
            return _pulses.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

/// <summary>Pulses the signal after a <c>SaveChanges</c> that committed outbox rows without an explicit transaction.</summary>
internal sealed class OutboxSaveChangesInterceptor<TContext>(OutboxSignal<TContext> signal) : SaveChangesInterceptor
    where TContext : DbContext
{
    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Notify(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Notify(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private void Notify(DbContext? context)
    {
        // Inside an explicit transaction the rows are not visible yet: the transaction interceptor pulses on commit.
        if (context is { Database.CurrentTransaction: null } && PendingOutbox.TryClear(context))
        {
            signal.Pulse();
        }
    }
}

/// <summary>Pulses the signal when a transaction that wrote outbox rows commits; forgets them when it rolls back.</summary>
internal sealed class OutboxTransactionInterceptor<TContext>(OutboxSignal<TContext> signal) : DbTransactionInterceptor
    where TContext : DbContext
{
    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData.Context);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => RolledBack(eventData.Context);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        RolledBack(eventData.Context);
        return Task.CompletedTask;
    }

    private void Committed(DbContext? context)
    {
        if (context is not null && PendingOutbox.TryClear(context))
        {
            signal.Pulse();
        }
    }

    private static void RolledBack(DbContext? context)
    {
        if (context is not null)
        {
            PendingOutbox.TryClear(context);
        }
    }
}
