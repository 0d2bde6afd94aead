using PaymentGateway.Simulator.Ledger;

namespace Payment.Tests;

/// <summary>The payment gateway simulator settles each idempotency key once, as real gateways do.</summary>
public class SimulatorLedgerTests
{
    [Fact]
    public async Task Concurrent_requests_with_one_key_are_settled_once_and_all_get_the_same_answer()
    {
        var ledger = new PaymentLedger();
        var settled = 0;
        var gate = new TaskCompletionSource();

        var answers = Enumerable.Range(0, 8).Select(_ => ledger.SettleOnceAsync("key", async () =>
        {
            Interlocked.Increment(ref settled);
            await gate.Task;
            return new IdempotentResponse("fingerprint", 201, "charge");
        })).ToList();
        gate.SetResult();
        var results = await Task.WhenAll(answers);

        Assert.Equal(1, settled);
        Assert.All(results, r => Assert.Same(results[0].Response, r.Response));
        Assert.Single(results, r => !r.Replayed);
        Assert.Equal(7, ledger.Statistics.Replays);
    }

    [Fact]
    public async Task A_settlement_that_failed_is_not_remembered_so_the_key_can_be_tried_again()
    {
        var ledger = new PaymentLedger();

        await Assert.ThrowsAsync<InvalidOperationException>(() => ledger.SettleOnceAsync("key", () => throw new InvalidOperationException("down")));
        var (response, replayed) = await ledger.SettleOnceAsync("key", () => Task.FromResult(new IdempotentResponse("f", 201, "charge")));

        Assert.False(replayed);
        Assert.Equal(201, response.StatusCode);
    }

    [Fact]
    public void Refunds_never_give_back_more_than_was_charged()
    {
        var ledger = new PaymentLedger();
        var now = DateTimeOffset.UtcNow;
        var charge = ledger.RecordCharge(new LedgerEntry("ch_1", "charge", "succeeded", 10m, "USD", "order", null, null, "c", now));

        Assert.True(ledger.TryRecordRefund(new LedgerEntry("re_1", "refund", "succeeded", 6m, "USD", "order", charge.Id, null, "r1", now), charge.Amount));
        Assert.False(ledger.TryRecordRefund(new LedgerEntry("re_2", "refund", "succeeded", 5m, "USD", "order", charge.Id, null, "r2", now), charge.Amount));
        Assert.True(ledger.TryRecordRefund(new LedgerEntry("re_3", "refund", "succeeded", 4m, "USD", "order", charge.Id, null, "r3", now), charge.Amount));

        Assert.Equal(2, ledger.Query("order", "refund").Count);
        Assert.Equal(1, ledger.Statistics.Charges);
        Assert.Equal(2, ledger.Statistics.Refunds);
    }

    [Fact]
    public void A_charge_key_is_looked_up_as_not_found_while_nothing_was_made_in_progress_while_a_request_with_it_is_under_way_then_found()
    {
        var ledger = new PaymentLedger();

        Assert.Equal(ChargeLookup.NotFound, ledger.LookUpCharge("order-1-charge").Outcome);
        var arrival = ledger.Arrive("order-1-charge");
        Assert.Equal(ChargeLookup.InProgress, ledger.LookUpCharge("order-1-charge").Outcome);
        var charge = ledger.RecordCharge(new LedgerEntry("ch_1", "charge", "succeeded", 10m, "USD", "order-1", null, null, "order-1-charge", DateTimeOffset.UtcNow));
        arrival.Dispose();

        var (outcome, found) = ledger.LookUpCharge("order-1-charge");
        Assert.Equal(ChargeLookup.Found, outcome);
        Assert.Same(charge, found);
        Assert.Equal(ChargeLookup.NotFound, ledger.LookUpCharge("order-2-charge").Outcome);
    }

    [Fact]
    public void A_request_that_ended_without_charging_leaves_its_key_not_found_once_every_request_with_it_is_answered()
    {
        var ledger = new PaymentLedger();

        var first = ledger.Arrive("key");
        var second = ledger.Arrive("key");
        first.Dispose();
        first.Dispose();
        Assert.Equal(ChargeLookup.InProgress, ledger.LookUpCharge("key").Outcome);
        second.Dispose();

        Assert.Equal(ChargeLookup.NotFound, ledger.LookUpCharge("key").Outcome);
        Assert.Equal(2, ledger.Statistics.Lookups);
    }
}
