using System.Text;
using Confluent.Kafka;
using LedgerService;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Shop.EventBus.Tests;

[Collection(BusCollection.Name)]
public sealed class ConsumerTests(InfrastructureFixture infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task A_message_delivered_twice_has_no_second_effect()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup);
        using var metrics = new MeterRecorder(ledger.Services);

        var placed = await ledger.PlaceOrdersAsync(count: 3);
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 3, "the three events are handled");

        // As after a crash between publishing and marking sent: the relay publishes the same events again.
        await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<OutboxMessage>().ExecuteUpdateAsync(s => s.SetProperty(m => m.SentAt, (DateTimeOffset?)null)));
        await Eventually.HoldsAsync(() => KafkaTopic.Count(setup.Kafka, setup.Topic) == 6, "the events are published a second time");
        await Eventually.HoldsAsync(() => metrics.Sum("shop.eventbus.messages.consumed", "duplicate") == 3, "the redeliveries are consumed");

        Assert.Equal(3, (await Ledger.ReceiptsAsync(setup.ConnectionString)).Count);
        Assert.Equal(3, (await Ledger.ReceiptsAsync(setup.ConnectionString, nameof(OrderAuditHandler))).Count);
        var account = await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync());
        Assert.Equal(placed.Sum(e => e.Amount), account.Balance);
        Assert.Equal(3, account.Deposits);
        Assert.All(placed, e => Assert.Equal(1, ledger.Probe.Attempts[(e.Id, nameof(OrderPlacedHandler))]));
        Assert.Equal(6, await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<InboxMessage>().CountAsync()));
    }

    /// <summary>
    /// The inbox record and the handler's effect are one transaction: when the commit itself fails, after both are
    /// written (a deferred trigger on the inbox refuses the crediting handler's first commit), neither is kept, and the retry applies the
    /// effect once. An inbox committed apart from the effect would credit the account twice, or never.
    /// </summary>
    [Fact]
    public async Task A_commit_failing_after_the_effect_and_the_inbox_record_keeps_neither_and_the_retry_applies_it_once()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup);
        using var metrics = new MeterRecorder(ledger.Services);
        var placed = (await ledger.PlaceOrdersAsync(count: 1)).Single();
        // A sequence, because it counts outside transactions: the refused commit's own count survives its rollback.
        await Ledger.QueryAsync(setup.ConnectionString, db => db.Database.ExecuteSqlRawAsync("""
            CREATE SEQUENCE test_inbox_commits;
            CREATE FUNCTION test_refuse_first_inbox_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.handler = 'LedgerService.OrderPlacedHandler' THEN
                    IF nextval('test_inbox_commits') = 1 THEN
                        RAISE EXCEPTION 'the crediting handler''s first commit is refused by the test';
                    END IF;
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER test_refuse_first_inbox_commit AFTER INSERT ON event_bus_inbox
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_first_inbox_commit();
            """));
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 1, "both handlers have run");
        await Eventually.HoldsAsync(() => metrics.Sum("shop.eventbus.messages.consumed", "processed") == 1, "the message is counted as processed");

        Assert.True(await Ledger.QueryAsync(setup.ConnectionString, db => db.Database.SqlQueryRaw<long>("SELECT last_value AS \"Value\" FROM test_inbox_commits").SingleAsync()) >= 2,
            "The refused commit never happened.");
        Assert.Equal(2, ledger.Probe.Attempts[(placed.Id, nameof(OrderPlacedHandler))]);
        Assert.Equal(1, await Ledger.ReceiptCountAsync(setup.ConnectionString));
        var account = await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync());
        Assert.Equal(placed.Amount, account.Balance);
        Assert.Equal(1, account.Deposits);
        Assert.Equal(2, await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<InboxMessage>().CountAsync()));
        Assert.True(metrics.Sum("shop.eventbus.messages.retried") >= 1, "The refused commit was not retried.");
    }

    [Fact]
    public async Task A_handler_failing_transiently_succeeds_on_a_later_attempt()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup);
        using var metrics = new MeterRecorder(ledger.Services);
        var placed = (await ledger.PlaceOrdersAsync(count: 1)).Single();
        ledger.Probe.FailTransiently(placed.Id, times: 2);
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 1, "both handlers have run");

        Assert.Equal(1, await Ledger.ReceiptCountAsync(setup.ConnectionString));
        Assert.Equal(3, ledger.Probe.Attempts[(placed.Id, nameof(OrderPlacedHandler))]);
        Assert.Equal(1, ledger.Probe.Attempts[(placed.Id, nameof(OrderAuditHandler))]);
        Assert.Equal(placed.Amount, (await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync())).Balance);
        await Eventually.HoldsAsync(() => metrics.Sum("shop.eventbus.messages.consumed", "processed") == 1, "the message is counted as processed");
        Assert.Equal(2, metrics.Sum("shop.eventbus.messages.retried"));
        Assert.Equal(0, metrics.Sum("shop.eventbus.messages.dead_lettered"));
        Assert.Equal(0, KafkaTopic.Count(setup.Kafka, setup.DeadLetterTopic));
    }

    [Fact]
    public async Task Unreadable_payloads_are_dead_lettered_at_once_and_unknown_event_types_are_skipped()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup);
        using var metrics = new MeterRecorder(ledger.Services);
        await Eventually.HoldsAsync(() => KafkaTopic.PartitionCount(setup.Kafka, setup.Topic) == 6, "the consumer has created its topic");

        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig(new Dictionary<string, string>(setup.Kafka))).Build())
        {
            await producer.ProduceAsync(setup.Topic, Raw("account-0", "{\"orderId\": not json", nameof(OrderPlacedIntegrationEvent)));
            await producer.ProduceAsync(setup.Topic, Raw("account-0", "{\"kind\":\"other\"}", "ShipmentDispatchedIntegrationEvent"));
        }

        var placed = await ledger.PlaceOrdersAsync(count: 1);
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 1, "the valid event after them is handled");
        await Eventually.HoldsAsync(() => KafkaTopic.Count(setup.Kafka, setup.DeadLetterTopic) == 1, "the unreadable message is dead-lettered");

        var deadLetter = KafkaTopic.ReadAll(setup.Kafka, setup.DeadLetterTopic).Single();
        Assert.Equal("System.Text.Json.JsonException", deadLetter.Header(EventBusHeaders.DeadLetterExceptionType));
        Assert.Equal("1", deadLetter.Header(EventBusHeaders.DeadLetterAttempts));
        Assert.Equal("{\"orderId\": not json", Encoding.UTF8.GetString(deadLetter.Message.Value));
        Assert.Null(deadLetter.Header(EventBusHeaders.DeadLetterHandler));
        Assert.Equal(1, metrics.Sum("shop.eventbus.messages.consumed", "ignored"));
        Assert.Equal(1, metrics.Sum("shop.eventbus.messages.consumed", "dead_lettered"));
        Assert.Equal(0, metrics.Sum("shop.eventbus.messages.retried"));
        Assert.Equal(placed[0].Amount, (await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync())).Balance);
    }

    [Fact]
    public async Task Two_consumers_of_a_group_share_the_partitions_and_handle_each_event_once()
    {
        // The group's dead-letter topic sorts after the events' topic, as products' does after ordering.orders.
        var ledger = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        var setup = ledger with { GroupId = "z" + ledger.GroupId };
        await using var first = await LedgerHost.StartAsync(setup, "first");
        await using var second = await LedgerHost.StartAsync(setup, "second");

        IReadOnlyCollection<TopicPartition> Owned(LedgerHost host) =>
            [.. host.Services.GetRequiredService<ConsumerAssignment>().Partitions.Where(p => p.Topic == setup.Topic)];
        // Each topic is split evenly, the events' topic included: the consumers also read the dead-letter topic, and
        // an even split of all twelve partitions could still leave one consumer every partition of the events.
        await Eventually.HoldsAsync(
            () => Owned(first).Count == 3 && Owned(second).Count == 3 && !Owned(first).Intersect(Owned(second)).Any(),
            "the six partitions are split evenly between the two consumers");

        var placed = await first.PlaceOrdersAsync(count: 120, accounts: 24, perTransaction: 10);
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 120, "every event is handled");

        var receipts = await Ledger.ReceiptsAsync(setup.ConnectionString);
        Assert.Equal(placed.Select(e => e.Id).Order(), receipts.Select(r => r.EventId).Order());
        Assert.Contains(receipts, r => r.Consumer == "first");
        Assert.Contains(receipts, r => r.Consumer == "second");
        // An account's events share a partition, so one consumer handled them all, in order.
        Assert.All(receipts.GroupBy(r => r.AccountId), account => Assert.Single(account.Select(r => r.Consumer).Distinct()));
        Assert.All(receipts, r => Assert.Equal(r.Number - 1, r.PreviousNumber));
        Assert.Equal(placed.Sum(e => e.Amount), await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SumAsync(a => a.Balance)));
    }

    [Fact]
    public async Task Partitions_are_handled_side_by_side_each_in_order()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup, configure: options => options.MaxConcurrency = 3);
        ledger.Probe.CreditDelay = TimeSpan.FromMilliseconds(150);
        var placed = await ledger.PlaceOrdersAsync(count: 36, accounts: 12, perTransaction: 12);
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 36, "every event is handled");

        // Twelve accounts hash to several of the six partitions; their handlers overlap, never more than allowed.
        Assert.InRange(ledger.Probe.MostAtOnce, 2, 3);
        Assert.All(await Ledger.ReceiptsAsync(setup.ConnectionString), r => Assert.Equal(r.Number - 1, r.PreviousNumber));
        Assert.Equal(placed.Sum(e => e.Amount), await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SumAsync(a => a.Balance)));
    }

    [Fact]
    public async Task A_topic_limit_handles_that_topic_one_partition_at_a_time()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup, configure: options =>
        {
            options.MaxConcurrency = 3;
            options.TopicConcurrency["ledger.orders"] = 1;
        });
        ledger.Probe.CreditDelay = TimeSpan.FromMilliseconds(150);
        var placed = await ledger.PlaceOrdersAsync(count: 36, accounts: 12, perTransaction: 12);
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 36, "every event is handled");

        // The same load that overlaps two or three partitions without the limit (the test above) never overlaps here.
        Assert.Equal(1, ledger.Probe.MostAtOnce);
        Assert.All(await Ledger.ReceiptsAsync(setup.ConnectionString), r => Assert.Equal(r.Number - 1, r.PreviousNumber));
        Assert.Equal(placed.Sum(e => e.Amount), await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SumAsync(a => a.Balance)));
    }

    private static Message<string, byte[]> Raw(string key, string payload, string eventType)
    {
        var headers = new Headers
        {
            { EventBusHeaders.EventType, Encoding.UTF8.GetBytes(eventType) },
            { EventBusHeaders.EventId, Encoding.UTF8.GetBytes(Guid.NewGuid().ToString()) },
        };
        return new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(payload), Headers = headers };
    }
}
