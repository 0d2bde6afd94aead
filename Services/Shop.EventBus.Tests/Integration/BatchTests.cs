using LedgerService;
using Microsoft.EntityFrameworkCore;

namespace Shop.EventBus.Tests;

/// <summary>Messages that wait in one partition are handled together, in one transaction, with the same guarantees.</summary>
[Collection(BusCollection.Name)]
public sealed class BatchTests(InfrastructureFixture infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task Events_waiting_in_one_partition_share_transactions_and_each_takes_effect_once()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup);
        using var metrics = new MeterRecorder(ledger.Services);
        // One account: one partition key, so all of them wait in the same partition until the consumer starts.
        var placed = await ledger.PlaceOrdersAsync(count: 8);
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 8, "both handlers ran for every event");

        Assert.Equal(8, await Ledger.ReceiptCountAsync(setup.ConnectionString));
        var account = await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync());
        Assert.Equal(placed.Sum(e => e.Amount), account.Balance);
        Assert.Equal(8, account.Deposits);
        Assert.All(placed, e => Assert.Equal(1, ledger.Probe.Attempts[(e.Id, nameof(OrderPlacedHandler))]));
        // Rows written in one transaction carry its id (xmin): fewer transactions than events means events were handled together.
        var transactions = await Ledger.QueryAsync(setup.ConnectionString, db =>
        {
            var countTransactions = "SELECT count(DISTINCT xmin::text)::bigint AS \"Value\" FROM " + EventBusTables.From(db).Inbox;
            return db.Database.SqlQueryRaw<long>(countTransactions).SingleAsync();
        });
        output.WriteLine($"8 events handled in {transactions} transaction(s)");
        Assert.InRange(transactions, 1, 7);
        await Eventually.HoldsAsync(() => metrics.Sum("shop.eventbus.messages.consumed", "processed") == 8, "every message is counted as processed");
    }

    [Fact]
    public async Task A_poison_event_among_waiting_ones_is_dead_lettered_alone_and_the_others_take_effect_once()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup);
        using var metrics = new MeterRecorder(ledger.Services);
        var placed = await ledger.PlaceOrdersAsync(count: 6);
        var poison = placed[2];
        ledger.Probe.Poison(poison.Id, nameof(OrderAuditHandler));
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 5, "the other events are audited");
        await Eventually.HoldsAsync(() => KafkaTopic.Count(setup.Kafka, setup.DeadLetterTopic) == 1, "the poison event is dead-lettered");

        // The batch it was in rolled back as a whole; every event, the poison one included, was then credited exactly once.
        Assert.Equal(6, await Ledger.ReceiptCountAsync(setup.ConnectionString));
        var account = await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync());
        Assert.Equal(placed.Sum(e => e.Amount), account.Balance);
        Assert.Equal(6, account.Deposits);
        Assert.Equal(11, await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<InboxMessage>().CountAsync()));
        var deadLetter = KafkaTopic.ReadAll(setup.Kafka, setup.DeadLetterTopic).Single();
        Assert.Equal(poison.Id.ToString(), deadLetter.Header(EventBusHeaders.EventId));
        // Attempts are those it had on its own: the rolled-back batch does not use one up.
        Assert.Equal("3", deadLetter.Header(EventBusHeaders.DeadLetterAttempts));
        Assert.Equal(1, metrics.Sum("shop.eventbus.messages.dead_lettered"));
        await Eventually.HoldsAsync(() => metrics.Sum("shop.eventbus.messages.consumed", "processed") == 5, "the other five are counted as processed");
    }
}
