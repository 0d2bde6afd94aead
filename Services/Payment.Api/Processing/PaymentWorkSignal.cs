using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Payment.Api.Processing;

/// <summary>
/// Wakes the <see cref="PaymentProcessor"/> when a transaction that created payment work commits, so a charge is sent
/// milliseconds after its event is handled rather than at the next poll.
/// </summary>
public sealed class PaymentWorkSignal
{
    private static readonly ConditionalWeakTable<DbContext, object> Pending = [];

    private readonly Channel<bool> _pulses = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Marks <paramref name="context"/>: its next commit carries new payment work.</summary>
    public static void Mark(DbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Pending.AddOrUpdate(context, Pending);
    }

    public void Pulse() => _pulses.Writer.TryWrite(true);

    /// <summary>Waits for a pulse, at most <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            await _pulses.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Timed out: a poll.
        }
    }

    internal static bool TryClear(DbContext context) => Pending.Remove(context);
}

/// <summary>Pulses <see cref="PaymentWorkSignal"/> after the commit of a transaction marked with <see cref="PaymentWorkSignal.Mark"/>.</summary>
public sealed class PaymentWorkInterceptor(PaymentWorkSignal signal) : DbTransactionInterceptor, ISaveChangesInterceptor
{
    public override void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        Committed(eventData.Context);
    }

    public override Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    /// <summary>A save outside an explicit transaction commits when it returns.</summary>
    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (eventData.Context?.Database.CurrentTransaction is null)
        {
            Committed(eventData.Context);
        }

        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(SavedChanges(eventData, result));

    private void Committed(DbContext? context)
    {
        if (context is not null && PaymentWorkSignal.TryClear(context))
        {
            signal.Pulse();
        }
    }
}
