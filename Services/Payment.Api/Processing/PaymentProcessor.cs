using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Payment.Api.Gateway;
using Payment.Api.Infrastructure;
using Payment.Api.Model;
using Payment.Api.Telemetry;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Payment.Api.Processing;

/// <summary>
/// Sends pending charges and refunds to the payment gateway and records their outcome with the event that tells the
/// saga (PaymentSucceeded, PaymentFailed, PaymentRefunded), in one transaction.
/// <para>
/// Per payment: (1) one statement takes up the due payments and counts an attempt for each
/// (<see cref="PaymentRecord.Attempts"/>), committed before anything is sent, so a crash can never hide that a request
/// may have reached the gateway; (2) a transaction per payment locks the
/// row (<c>FOR UPDATE SKIP LOCKED</c>: replicas and the cancellation handler never work on it at once), calls the
/// gateway under the payment's idempotency key and saves the outcome. If this process dies mid-call, PostgreSQL
/// drops the lock with the connection and the payment is due again at once: the next attempt looks the key up at the
/// gateway (a lookup never charges) and settles with what the gateway did, or sends it if the gateway never made it. When the gateway is down or the circuit open, the payment
/// waits (backoff up to <see cref="PaymentOptions.MaxRetryDelay"/>) until its deadline.
/// </para>
/// </summary>
public sealed partial class PaymentProcessor(
    IServiceScopeFactory scopes,
    PaymentWorkSignal signal,
    PaymentTelemetry telemetry,
    CircuitBreakerStateProvider circuit,
    IOptions<PaymentOptions> options,
    IOptions<PaymentGatewayOptions> gatewayOptions,
    TimeProvider timeProvider,
    ILogger<PaymentProcessor> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var slots = new SemaphoreSlim(settings.MaxConcurrentPayments);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Claim only as many as can start now: a claimed payment counts an attempt, so it must be sent at once.
                await slots.WaitAsync(stoppingToken);
                slots.Release();
                var limit = slots.CurrentCount;
                List<ClaimedPayment> claimed;
                try
                {
                    claimed = await ClaimDueAsync(limit, stoppingToken);
                }
                catch (Exception exception) when (DatabaseFailures.IsTransient(exception) && !stoppingToken.IsCancellationRequested)
                {
                    LogDatabaseUnavailable(logger, exception);
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                    continue;
                }

                foreach (var payment in claimed)
                {
                    await slots.WaitAsync(stoppingToken);
                    var work = new TaskCompletionSource();
                    if (!_inFlight.TryAdd(payment.Id, work.Task))
                    {
                        slots.Release();
                        continue;
                    }

                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await ProcessAsync(payment, stoppingToken);
                        }
                        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                        {
                            LogProcessingFailed(logger, exception, payment.Id);
                            await DeferAsync(payment.Id, stoppingToken);
                        }
                        catch (OperationCanceledException)
                        {
                            // Stopping: the transaction rolls back and the payment is sent again after the restart.
                        }
                        finally
                        {
                            _inFlight.TryRemove(payment.Id, out _);
                            slots.Release();
                            work.SetResult();
                        }
                    }, CancellationToken.None);
                }

                // Fewer due than free slots: wait for news or the poll interval. Otherwise every free slot was filled
                // and more may be due: look again as soon as a slot frees up.
                if (claimed.Count < limit)
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await Task.WhenAll(_inFlight.Values);
        }
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> pending payments whose time has come, skipping those this replica is already
    /// on and rows locked elsewhere, and counts an attempt for each, in one statement committed before anything is sent:
    /// no crash can hide that a request may have reached the gateway.
    /// </summary>
    private async Task<List<ClaimedPayment>> ClaimDueAsync(int limit, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PaymentContext>();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            UPDATE "Payments" SET "Attempts" = "Attempts" + 1
            WHERE "Id" IN (
                SELECT "Id" FROM "Payments"
                WHERE "Status" = 'Pending' AND "NextAttemptAt" <= $1 AND NOT ("Id" = ANY($2))
                ORDER BY "NextAttemptAt"
                LIMIT $3
                FOR UPDATE SKIP LOCKED)
            RETURNING "Id", "Attempts"
            """, connection)
        {
            Parameters =
            {
                new() { Value = timeProvider.GetUtcNow() },
                new() { Value = _inFlight.Keys.ToArray() },
                new() { Value = limit },
            },
        };
        var claimed = new List<ClaimedPayment>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedPayment(reader.GetGuid(0), reader.GetInt32(1)));
        }

        return claimed;
    }

    /// <summary>After an unexpected failure, waits the longest retry delay before the payment is taken up again.</summary>
    private async Task DeferAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PaymentContext>();
            var next = timeProvider.GetUtcNow() + options.Value.MaxRetryDelay;
            await db.Payments.Where(p => p.Id == id && p.Status == PaymentStatus.Pending)
                .ExecuteUpdateAsync(p => p.SetProperty(x => x.NextAttemptAt, next), cancellationToken);
        }
        catch (Exception exception) when (DatabaseFailures.IsTransient(exception))
        {
            LogDatabaseUnavailable(logger, exception);
        }
    }

    private async Task ProcessAsync(ClaimedPayment claimed, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PaymentContext>();

        // Hold the row while the gateway is called; save the outcome with its event. All or nothing, so EF Core's
        // savepoint around SaveChanges would only add two round trips.
        db.Database.AutoSavepointsEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var payment = await db.Payments
            .FromSql($"""SELECT * FROM "Payments" WHERE "Id" = {claimed.Id} AND "Status" = 'Pending' FOR UPDATE SKIP LOCKED""")
            .SingleOrDefaultAsync(cancellationToken);
        if (payment is null)
        {
            return;
        }

        using var activity = StartActivity(payment);
        var mayHaveReachedGateway = claimed.Attempts > 1;
        var gateway = scope.ServiceProvider.GetRequiredService<PaymentGatewayClient>();
        if (payment.Kind == PaymentKind.Charge)
        {
            await ChargeAsync(db, gateway, payment, mayHaveReachedGateway, cancellationToken);
        }
        else
        {
            await RefundAsync(db, gateway, payment, cancellationToken);
        }

        activity?.SetTag("shop.payment.status", payment.Status.ToString());
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task ChargeAsync(PaymentContext db, PaymentGatewayClient gateway, PaymentRecord charge, bool mayHaveReachedGateway, CancellationToken cancellationToken)
    {
        var step = ChargeRules.BeforeSending(charge, mayHaveReachedGateway, timeProvider.GetUtcNow());
        GatewayCharge? result = null;
        try
        {
            if (step == ChargeStep.LookUp)
            {
                result = await gateway.FindChargeAsync(charge.IdempotencyKey, cancellationToken);
                // Not found: the gateway never made it and nothing is under way, so it is as if never sent.
                step = result is null ? ChargeRules.BeforeSending(charge, mayHaveReachedGateway: false, timeProvider.GetUtcNow()) : step;
            }

            switch (step)
            {
                case ChargeStep.CancelUnsent:
                    // Nothing was charged: nothing to send, nothing to give back. A charge given up at its deadline
                    // keeps its reason and reads Failed, as the order was told.
                    Complete(charge, charge.FailureReason is null ? PaymentStatus.Cancelled : PaymentStatus.Failed, timeProvider.GetUtcNow());
                    return;
                case ChargeStep.GiveUpUnsent:
                    // Never made. Tried, and the gateway was unavailable (answered 503, or timed out and a lookup found
                    // nothing), or never tried at all before the deadline: the order is told which.
                    GiveUp(db, charge, mayHaveReachedGateway || charge.LastError is not null
                        ? $"The payment gateway was unavailable for {ChargeRules.Describe(options.Value.ChargeDeadline)}."
                        : $"The payment was not sent within {ChargeRules.Describe(options.Value.ChargeDeadline)}.", timeProvider.GetUtcNow());
                    return;
                case ChargeStep.Send:
                    result = await gateway.ChargeAsync(charge.IdempotencyKey, charge.Amount, charge.Currency, charge.OrderId.ToString(), cancellationToken);
                    break;
            }
        }
        catch (PaymentGatewayUnavailableException exception)
        {
            var now = timeProvider.GetUtcNow();
            Postpone(charge, exception, now);
            var reason = $"The payment gateway was unavailable for {ChargeRules.Describe(options.Value.ChargeDeadline)}.";
            switch (ChargeRules.WhenUnsettled(charge, now))
            {
                case UnsettledStep.GiveUp:
                    GiveUp(db, charge, reason, now);
                    break;
                case UnsettledStep.FailOrderAndResolveLater:
                    // It may have gone through: keep asking under the same key, and refund it if it did.
                    charge.CancelRequested = true;
                    charge.FailureReason = reason;
                    db.AddIntegrationEvent(new PaymentFailedIntegrationEvent(charge.OrderId, reason), charge.OrderId.ToString());
                    break;
            }

            return;
        }
        catch (PaymentGatewayRejectedException exception)
        {
            telemetry.GatewayCall("rejected");
            LogRejected(logger, exception, charge.OrderId);
            GiveUp(db, charge, "The payment gateway refused the charge.", timeProvider.GetUtcNow(), lastError: exception.Message);
            return;
        }

        Settle(db, charge, result!, timeProvider.GetUtcNow());
    }

    /// <summary>Records the charge the gateway made (or declined) at <paramref name="settledAt"/>, and tells the saga.</summary>
    private void Settle(PaymentContext db, PaymentRecord charge, GatewayCharge result, DateTimeOffset settledAt)
    {
        telemetry.GatewayCall("answered");
        charge.GatewayReference = result.Id;
        if (result.Succeeded)
        {
            Complete(charge, PaymentStatus.Succeeded, settledAt);
            if (charge.CancelRequested)
            {
                // The order was cancelled (by the buyer, or at the deadline) while the charge was under way: give the
                // money back. The charge did succeed, so it carries no failure reason; its refund tells the rest.
                charge.FailureReason = null;
                RequestRefund(db, charge, settledAt);
            }
            else
            {
                db.AddIntegrationEvent(new PaymentSucceededIntegrationEvent(charge.OrderId, charge.Id, charge.Amount), charge.OrderId.ToString());
            }
        }
        else
        {
            Complete(charge, PaymentStatus.Declined, settledAt);
            charge.FailureReason = $"Declined by the payment gateway ({result.DeclineCode ?? "no reason given"}).";
            if (!charge.CancelRequested)
            {
                db.AddIntegrationEvent(new PaymentFailedIntegrationEvent(charge.OrderId, charge.FailureReason), charge.OrderId.ToString());
            }
        }
    }

    private async Task RefundAsync(PaymentContext db, PaymentGatewayClient gateway, PaymentRecord refund, CancellationToken cancellationToken)
    {
        var charge = await db.Payments.AsNoTracking().SingleAsync(p => p.Id == refund.RefundOf, cancellationToken);
        try
        {
            var result = await gateway.RefundAsync(refund.IdempotencyKey, charge.GatewayReference!, refund.Amount, cancellationToken);
            telemetry.GatewayCall("answered");
            refund.GatewayReference = result.Id;
            Complete(refund, PaymentStatus.Succeeded, timeProvider.GetUtcNow());
            db.AddIntegrationEvent(new PaymentRefundedIntegrationEvent(refund.OrderId, charge.Id, refund.Amount), refund.OrderId.ToString());
        }
        catch (PaymentGatewayUnavailableException exception)
        {
            // A refund is owed whatever happens: it has no deadline and is retried until the gateway takes it.
            Postpone(refund, exception, timeProvider.GetUtcNow());
        }
        catch (PaymentGatewayRejectedException exception)
        {
            telemetry.GatewayCall("rejected");
            LogRefundRejected(logger, exception, refund.OrderId);
            refund.FailureReason = "The payment gateway refused the refund; it needs an operator.";
            refund.LastError = Shorten(exception.Message);
            Complete(refund, PaymentStatus.Failed, timeProvider.GetUtcNow());
        }
    }

    /// <summary>Adds the order's refund of <paramref name="charge"/>, unless it has one; the processor sends it.</summary>
    public static void RequestRefund(PaymentContext db, PaymentRecord charge, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(charge);
        db.Payments.Add(new PaymentRecord
        {
            Id = Guid.CreateVersion7(now),
            OrderId = charge.OrderId,
            BuyerId = charge.BuyerId,
            Kind = PaymentKind.Refund,
            Status = PaymentStatus.Pending,
            Amount = charge.Amount,
            Currency = charge.Currency,
            IdempotencyKey = PaymentRecord.RefundKey(charge.OrderId),
            RefundOf = charge.Id,
            NextAttemptAt = now,
            TraceParent = Activity.Current?.Id ?? charge.TraceParent,
            CreatedAt = now,
        });
        PaymentWorkSignal.Mark(db);
    }

    private void Postpone(PaymentRecord payment, PaymentGatewayUnavailableException exception, DateTimeOffset now)
    {
        if (!exception.ReachedGateway)
        {
            // Refused on this side (open circuit, full bulkhead): this attempt does not count as one the gateway may have seen.
            payment.Attempts--;
        }

        // By why the call ended: an attempt answered only 503 did not reach the gateway in effect, yet the gateway was unavailable.
        telemetry.GatewayCall(exception.InnerException switch
        {
            BrokenCircuitException => "circuit_open",
            RateLimiterRejectedException => "bulkhead_full",
            _ => "unavailable",
        });
        var settings = options.Value;
        var delay = exception.ReachedGateway || PaymentTelemetry.StateOf(circuit) == CircuitState.Closed
            ? ChargeRules.RetryDelay(payment.Attempts, settings.RetryDelay, settings.MaxRetryDelay)
            : gatewayOptions.Value.BreakDuration;
        // Jitter spreads the retries of payments that failed together.
        payment.NextAttemptAt = now + delay * (0.8 + (Random.Shared.NextDouble() * 0.4));
        payment.LastError = Shorten(exception.Message);
        LogPostponed(logger, payment.Kind, payment.OrderId, delay.TotalSeconds, exception.Message);
    }

    private void GiveUp(PaymentContext db, PaymentRecord charge, string reason, DateTimeOffset now, string? lastError = null)
    {
        charge.FailureReason = reason;
        charge.LastError = lastError is null ? charge.LastError : Shorten(lastError);
        Complete(charge, PaymentStatus.Failed, now);
        if (!charge.CancelRequested)
        {
            db.AddIntegrationEvent(new PaymentFailedIntegrationEvent(charge.OrderId, reason), charge.OrderId.ToString());
        }
    }

    private void Complete(PaymentRecord payment, PaymentStatus status, DateTimeOffset now)
    {
        payment.Status = status;
        payment.CompletedAt = now;
        telemetry.Settled(payment.Kind.ToString(), status.ToString());
        LogSettled(logger, payment.Kind, payment.OrderId, status);
    }

    private static Activity? StartActivity(PaymentRecord payment)
    {
        ActivityContext.TryParse(payment.TraceParent, null, out var parent);
        var activity = PaymentTelemetry.ActivitySource.StartActivity(
            payment.Kind == PaymentKind.Charge ? "charge order" : "refund order", ActivityKind.Internal, parent);
        activity?.SetTag("shop.order.id", payment.OrderId.ToString());
        activity?.SetTag("shop.payment.attempt", payment.Attempts);
        return activity;
    }

    private static string Shorten(string text) => text.Length <= PaymentContext.MaxReasonLength ? text : text[..PaymentContext.MaxReasonLength];

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} of order {OrderId}: {Status}")]
    private static partial void LogSettled(ILogger logger, PaymentKind kind, Guid orderId, PaymentStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Kind} of order {OrderId} not settled; next attempt in {DelaySeconds:0.#} s: {Reason}")]
    private static partial void LogPostponed(ILogger logger, PaymentKind kind, Guid orderId, double delaySeconds, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The payment gateway refused the charge of order {OrderId}")]
    private static partial void LogRejected(ILogger logger, Exception exception, Guid orderId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The payment gateway refused the refund of order {OrderId}; it needs an operator")]
    private static partial void LogRefundRejected(ILogger logger, Exception exception, Guid orderId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Processing payment {PaymentId} failed; it stays pending and is tried again")]
    private static partial void LogProcessingFailed(ILogger logger, Exception exception, Guid paymentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The payment database is unavailable; looking for due payments again shortly")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Exception exception);
}

/// <summary>A payment taken up by this replica, with its attempts counted so far, this one included.</summary>
internal readonly record struct ClaimedPayment(Guid Id, int Attempts);
