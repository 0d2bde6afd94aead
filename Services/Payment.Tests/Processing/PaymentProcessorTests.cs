using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Payment.Api.Model;
using PaymentGateway.Simulator.Ledger;

namespace Payment.Tests.Processing;

/// <summary>
/// The processor against the payment gateway simulator and a real PostgreSQL: what is recorded, what the gateway's
/// ledger shows, and what the saga is told.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PaymentProcessorTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const string DeadlineReason = "The payment gateway was unavailable for 10 minutes.";

    private static bool Settled(List<PaymentRecord> payments) => payments.All(p => p.Status != PaymentStatus.Pending);

    /// <summary>Settled, or its first attempt over without an answer.</summary>
    private static bool FirstAttemptOver(List<PaymentRecord> payments) => payments.All(p => p.Status != PaymentStatus.Pending || p.LastError is not null);

    [Fact]
    public async Task A_gateway_answering_in_a_few_seconds_settles_the_charge_in_its_first_attempt()
    {
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 2500);

        var charge = await harness.AddChargeAsync(20m);
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, FirstAttemptOver, Patience);

        var settled = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Succeeded, settled.Status);
        Assert.Equal(1, settled.Attempts);
        Assert.Single(harness.Ledger.Query(charge.OrderId.ToString(), "charge"));
        Assert.Equal(["PaymentSucceededIntegrationEvent"], await harness.EventsAsync(charge.OrderId));
    }

    [Fact]
    public async Task A_payment_is_completed_when_the_gateway_answered_not_when_the_call_began()
    {
        // One attempt, however slow the first call of a cold process is.
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 1000,
            new Dictionary<string, string?> { ["PaymentGateway:AttemptTimeout"] = "00:00:30", ["PaymentGateway:TotalTimeout"] = "00:01:30" });

        var charge = await harness.AddChargeAsync(20m);
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, Settled, Patience);

        var settled = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Succeeded, settled.Status);
        Assert.Equal(1, settled.Attempts);
        // The gateway made the charge after its 1 s latency, during the call.
        var made = Assert.Single(harness.Ledger.Query(charge.OrderId.ToString(), "charge")).Created;
        Assert.True(settled.CompletedAt >= made, $"Completed at {settled.CompletedAt:O}, before the gateway made the charge at {made:O}.");
    }

    [Fact]
    public async Task A_charge_the_gateway_answers_only_with_503_nothing_done_waits_uncounted_and_is_reported_as_unavailable()
    {
        var outcomes = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "shop.payment.gateway.calls")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "shop.payment.gateway.outcome")
                {
                    outcomes.Enqueue((string)tag.Value!);
                }
            }
        });
        listener.Start();
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 0);
        harness.Simulator.Services.GetRequiredService<SimulatorBehavior>().Set(new Behavior(LatencyMs: 0, DeclineRate: 0, FailureRate: 1));

        var charge = await harness.AddChargeAsync(20m);
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, FirstAttemptOver, Patience);

        // Nothing done: a cancellation now finds a charge never sent and cancels it without a call.
        var pending = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Pending, pending.Status);
        Assert.Equal(0, pending.Attempts);
        Assert.Contains("unavailable", outcomes);
        Assert.DoesNotContain("bulkhead_full", outcomes);
    }

    [Fact]
    public async Task A_cancelled_order_whose_earlier_attempt_never_reached_the_gateway_is_not_charged_when_its_outcome_is_resolved()
    {
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 0);

        // An earlier attempt timed out (its request lost on the way), then the buyer cancelled.
        var charge = await harness.AddChargeAsync(20m, c =>
        {
            c.Attempts = 1;
            c.CancelRequested = true;
        });
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, Settled, Patience);

        var cancelled = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Cancelled, cancelled.Status);
        Assert.Null(cancelled.FailureReason);
        Assert.Empty(harness.Ledger.Query(charge.OrderId.ToString(), null));
        Assert.Empty(await harness.EventsAsync(charge.OrderId));
    }

    [Fact]
    public async Task A_charge_given_up_at_its_deadline_that_the_gateway_never_made_is_recorded_as_failed_without_charging()
    {
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 0);

        // The gateway did not answer for 10 minutes; the order was failed and cancelled; now the gateway is back.
        var charge = await harness.AddChargeAsync(20m, c =>
        {
            c.Attempts = 5;
            c.CancelRequested = true;
            c.FailureReason = DeadlineReason;
            c.Deadline = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1);
        });
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, Settled, Patience);

        var failed = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Failed, failed.Status);
        Assert.Equal(DeadlineReason, failed.FailureReason);
        Assert.Empty(harness.Ledger.Query(charge.OrderId.ToString(), null));
        Assert.Empty(await harness.EventsAsync(charge.OrderId));
    }

    [Fact]
    public async Task A_charge_past_its_deadline_whose_earlier_attempts_the_gateway_never_took_fails_the_order_as_gateway_unavailable()
    {
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 0);

        // Attempts timed out, and the deadline passed while the charge waited for its next one.
        var charge = await harness.AddChargeAsync(20m, c =>
        {
            c.Attempts = 3;
            c.Deadline = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1);
        });
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, Settled, Patience);

        var failed = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Failed, failed.Status);
        Assert.Equal(DeadlineReason, failed.FailureReason);
        Assert.Empty(harness.Ledger.Query(charge.OrderId.ToString(), null));
        Assert.Equal(["PaymentFailedIntegrationEvent"], await harness.EventsAsync(charge.OrderId));
    }

    [Fact]
    public async Task A_charge_past_its_deadline_that_the_gateway_answered_only_with_503_fails_the_order_as_gateway_unavailable()
    {
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 0);

        // Every attempt got 503 (nothing done, so none counts), and the deadline passed while it waited for the next.
        var charge = await harness.AddChargeAsync(20m, c =>
        {
            c.Attempts = 0;
            c.LastError = "The payment gateway answered 503 Service Unavailable.";
            c.Deadline = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1);
        });
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, Settled, Patience);

        var failed = Assert.Single(payments);
        Assert.Equal(PaymentStatus.Failed, failed.Status);
        Assert.Equal(DeadlineReason, failed.FailureReason);
        Assert.Empty(harness.Ledger.Query(charge.OrderId.ToString(), null));
        Assert.Equal(["PaymentFailedIntegrationEvent"], await harness.EventsAsync(charge.OrderId));
    }

    [Fact]
    public async Task A_charge_given_up_at_its_deadline_that_the_gateway_did_make_reads_succeeded_and_is_refunded()
    {
        await using var harness = await PaymentProcessorHarness.StartAsync(await postgres.CreateDatabaseAsync(CancellationToken.None), latencyMs: 0);

        // 20.00 as read back from the database, so that the gateway sees the same parameters under the key.
        var charge = await harness.AddChargeAsync(20.00m, c =>
        {
            c.Attempts = 5;
            c.CancelRequested = true;
            c.FailureReason = DeadlineReason;
            c.Deadline = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1);
            // Not due until the gateway has the charge, as if made by an attempt whose answer was lost.
            c.NextAttemptAt = DateTimeOffset.UtcNow + TimeSpan.FromDays(1);
        });
        await harness.ChargeAtTheGatewayAsync(charge);
        await harness.MakeDueAsync(charge.Id);
        var payments = await harness.PaymentsWhenAsync(charge.OrderId, p => p.Count == 2 && Settled(p), Patience);

        var settled = Assert.Single(payments, p => p.Kind == PaymentKind.Charge);
        var refund = Assert.Single(payments, p => p.Kind == PaymentKind.Refund);
        Assert.Equal(PaymentStatus.Succeeded, settled.Status);
        Assert.Null(settled.FailureReason);
        Assert.Equal(PaymentStatus.Succeeded, refund.Status);
        Assert.Single(harness.Ledger.Query(charge.OrderId.ToString(), "charge"));
        Assert.Single(harness.Ledger.Query(charge.OrderId.ToString(), "refund"));
        Assert.Equal(["PaymentRefundedIntegrationEvent"], await harness.EventsAsync(charge.OrderId));
    }
}
