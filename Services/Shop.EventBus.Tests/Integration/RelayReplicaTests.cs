using LedgerService;
using Npgsql;

namespace Shop.EventBus.Tests;

[Collection(BusCollection.Name)]
public sealed class RelayReplicaTests(InfrastructureFixture infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task Replicas_relay_one_outbox_without_publishing_an_event_twice()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        // Polling so rare that only the standby's notifications can get its commits published within the test.
        Action<EventBusOptions> slowPolling = options => options.RelayPollInterval = TimeSpan.FromMinutes(5);
        await using var first = await LedgerHost.StartAsync(setup, "first", slowPolling);
        await using var second = await LedgerHost.StartAsync(setup, "second", slowPolling);

        var placing = new[]
        {
            first.PlaceOrdersAsync(count: 50, accounts: 5, accountPrefix: "first-"),
            second.PlaceOrdersAsync(count: 50, accounts: 5, accountPrefix: "second-"),
        };
        var placed = (await Task.WhenAll(placing)).SelectMany(p => p).ToList();

        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "both replicas' events are published", TimeSpan.FromSeconds(20));
        var messages = KafkaTopic.ReadAll(setup.Kafka, setup.Topic);
        Assert.Equal(100, messages.Count);
        Assert.Equal(placed.Select(e => e.Id.ToString()).Order(), messages.Select(m => m.Header(EventBusHeaders.EventId)).Order());
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString) == 100, "every event is handled");
        Assert.All(await Ledger.ReceiptsAsync(setup.ConnectionString), r => Assert.Equal(r.Number - 1, r.PreviousNumber));
    }

    [Fact]
    public async Task A_lone_replica_relays_on_one_connection_and_listens_once_another_replica_connects()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        // Polling so rare that events reach Kafka within the test only through the signal or a notification.
        Action<EventBusOptions> slowPolling = options => options.RelayPollInterval = TimeSpan.FromMinutes(5);
        await using var first = await LedgerHost.StartAsync(setup, "first", slowPolling);
        var alone = await first.PlaceOrdersAsync(count: 5, accounts: 1);
        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the lone replica publishes its own events");
        await Task.Delay(OutboxRelay<LedgerContext>.ReplicaCheckInterval * 2);
        Assert.Equal(1, await RelaySessionsAsync(setup.ConnectionString));

        await using var second = await LedgerHost.StartAsync(setup, "second", slowPolling);
        // The leader's lock connection and its listener, and the standby's connection.
        await Eventually.HoldsAsync(async () => await RelaySessionsAsync(setup.ConnectionString) == 3, "the leader listens for the standby");
        var fromSecond = await second.PlaceOrdersAsync(count: 5, accounts: 1, accountPrefix: "second-");
        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the standby's events are published", TimeSpan.FromSeconds(20));

        var messages = KafkaTopic.ReadAll(setup.Kafka, setup.Topic);
        Assert.Equal(alone.Concat(fromSecond).Select(e => e.Id.ToString()).Order(), messages.Select(m => m.Header(EventBusHeaders.EventId)).Order());
    }

    private static async Task<long> RelaySessionsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = OutboxRelay<LedgerContext>.ApplicationName });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task When_the_relaying_replica_stops_another_takes_over()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        Action<EventBusOptions> quickTakeover = options => options.RelayPollInterval = TimeSpan.FromMilliseconds(200);
        var first = await LedgerHost.StartAsync(setup, "first", quickTakeover);
        await using var second = await LedgerHost.StartAsync(setup, "second", quickTakeover);

        var before = await first.PlaceOrdersAsync(count: 10, accounts: 2);
        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the first events are published");

        // Whichever replica was relaying, only the second is left.
        await first.DisposeAsync();
        var after = await second.PlaceOrdersAsync(count: 10, accounts: 2, accountPrefix: "later-");
        await Eventually.HoldsAsync(async () => await Ledger.PendingAsync(setup.ConnectionString) == 0, "the later events are published");

        var messages = KafkaTopic.ReadAll(setup.Kafka, setup.Topic);
        Assert.Equal(before.Concat(after).Select(e => e.Id.ToString()).Order(), messages.Select(m => m.Header(EventBusHeaders.EventId)).Order());
    }
}
