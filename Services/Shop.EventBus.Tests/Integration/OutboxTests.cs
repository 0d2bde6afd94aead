using System.Text.Json;
using LedgerService;
using Microsoft.EntityFrameworkCore;

namespace Shop.EventBus.Tests;

[Collection(BusCollection.Name)]
public sealed class OutboxTests(InfrastructureFixture infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task Events_saved_with_their_state_changes_are_published_once_each_in_order_per_key()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup);

        var placed = await ledger.PlaceOrdersAsync(count: 60, accounts: 6, perTransaction: 4);

        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the relay has published every event");
        Assert.Equal(60, KafkaTopic.Count(setup.Kafka, setup.Topic));
        Assert.Equal(6, KafkaTopic.PartitionCount(setup.Kafka, setup.Topic));

        var messages = KafkaTopic.ReadAll(setup.Kafka, setup.Topic);
        Assert.Equal(placed.Select(e => e.Id).Order(), messages.Select(m => Guid.Parse(m.Header(EventBusHeaders.EventId)!)).Order());
        foreach (var message in messages)
        {
            Assert.Equal(nameof(OrderPlacedIntegrationEvent), message.Header(EventBusHeaders.EventType));
            Assert.Equal("application/json", message.Header(EventBusHeaders.ContentType));
            var @event = JsonSerializer.Deserialize<OrderPlacedIntegrationEvent>(message.Message.Value, JsonSerializerOptions.Web)!;
            Assert.Equal(@event.AccountId, message.Message.Key);
            Assert.Equal(@event.Id, Guid.Parse(message.Header(EventBusHeaders.EventId)!));
        }

        // Each account's orders sit on one partition in the order they were committed.
        foreach (var account in messages.GroupBy(m => m.Message.Key))
        {
            Assert.Single(account.Select(m => m.Partition.Value).Distinct());
            var numbers = account.OrderBy(m => m.Offset.Value)
                .Select(m => JsonSerializer.Deserialize<OrderPlacedIntegrationEvent>(m.Message.Value, JsonSerializerOptions.Web)!.Number);
            Assert.Equal(Enumerable.Range(1, 10), numbers);
        }

        // The service's own handlers consume them: once each, in order per account.
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 60, "every event is handled");
        var receipts = await Ledger.ReceiptsAsync(setup.ConnectionString);
        Assert.All(receipts, r => Assert.Equal(r.Number - 1, r.PreviousNumber));
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 60, "the second handler has run for every event");
        var balances = await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SumAsync(a => a.Balance));
        Assert.Equal(placed.Sum(e => e.Amount), balances);
    }

    [Fact]
    public async Task Published_events_and_inbox_records_older_than_the_retention_are_deleted_by_the_relay()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup, configure: options =>
        {
            options.Retention = TimeSpan.FromSeconds(1);
            options.CleanupInterval = TimeSpan.FromMilliseconds(500);
        });

        await ledger.PlaceOrdersAsync(count: 5);
        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the relay has published every event");
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 5, "every event is handled");
        Assert.Equal(5, await Ledger.ReceiptCountAsync(setup.ConnectionString));

        await Eventually.HoldsAsync(
            async () => await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<OutboxMessage>().CountAsync()) == 0,
            "published outbox rows past the retention are deleted");
        await Eventually.HoldsAsync(
            async () => await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<InboxMessage>().CountAsync()) == 0,
            "inbox records past the retention are deleted");
        // Only the bus's bookkeeping goes: the handlers' effects stay.
        Assert.Equal(5, await Ledger.ReceiptCountAsync(setup.ConnectionString));
        Assert.Equal(5, KafkaTopic.Count(setup.Kafka, setup.Topic));
    }

    [Fact]
    public async Task A_rolled_back_transaction_publishes_nothing()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup);

        var rolledBack = new OrderPlacedIntegrationEvent(Guid.NewGuid(), "rolled-back", 5, 1);
        await ledger.WithContextAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Orders.Add(new Order { Id = rolledBack.OrderId, AccountId = rolledBack.AccountId, Amount = rolledBack.Amount, Number = 1 });
            db.AddIntegrationEvent(rolledBack, rolledBack.AccountId);
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        });

        // A later committed event proves the relay ran after the rollback.
        var committed = await ledger.PlaceOrdersAsync(count: 1, accountPrefix: "committed-");
        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the committed event is published");

        var messages = KafkaTopic.ReadAll(setup.Kafka, setup.Topic);
        Assert.Equal([committed[0].Id], messages.Select(m => Guid.Parse(m.Header(EventBusHeaders.EventId)!)));
        Assert.Equal(0, await Ledger.QueryAsync(setup.ConnectionString, db => db.Set<OutboxMessage>().CountAsync(m => m.EventId == rolledBack.Id)));
        Assert.Equal(0, await Ledger.QueryAsync(setup.ConnectionString, db => db.Orders.CountAsync(o => o.Id == rolledBack.OrderId)));
    }
}
