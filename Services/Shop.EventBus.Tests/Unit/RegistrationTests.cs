using System.Diagnostics;
using LedgerService;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Shop.EventBus.Tests;

/// <summary>Registration and the errors a service sees when it adopts the bus wrongly; no server is contacted.</summary>
public sealed class RegistrationTests
{
    private sealed class NoBusContext(DbContextOptions<NoBusContext> options) : DbContext(options);

    public record SomethingHappenedIntegrationEvent(string What) : IntegrationEvent;

    private sealed class SomethingHandler : IIntegrationEventHandler<SomethingHappenedIntegrationEvent>
    {
        public Task Handle(SomethingHappenedIntegrationEvent @event, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static class Other
    {
        public record SomethingHappenedIntegrationEvent(int Count) : IntegrationEvent;

        public sealed class Handler : IIntegrationEventHandler<SomethingHappenedIntegrationEvent>
        {
            public Task Handle(SomethingHappenedIntegrationEvent @event, CancellationToken cancellationToken) => Task.CompletedTask;
        }
    }

    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing", ApplicationName = "Ordering.Api" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:1",
            ["ConnectionStrings:ledgerdb"] = "Host=127.0.0.1;Port=1;Database=ledger;Username=ledger;Password=unused",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        return builder;
    }

    [Fact]
    public void Arguments_are_validated()
    {
        Assert.Throws<ArgumentNullException>(() => EventBusExtensions.AddEventBus<LedgerContext>(null!, "kafka"));
        Assert.Throws<ArgumentException>(() => Builder().AddEventBus<LedgerContext>(" "));
        Assert.Throws<ArgumentNullException>(() => OutboxDbContextExtensions.AddIntegrationEvent(null!, new SomethingHappenedIntegrationEvent("x")));
        Assert.Throws<ArgumentNullException>(() => EventBusModelBuilderExtensions.AddEventBusTables(null!));
        Assert.Throws<ArgumentNullException>(() => DeadLetterApi.MapDeadLetterApi(null!));
    }

    [Fact]
    public void A_service_has_one_bus()
    {
        var builder = Builder();
        builder.AddEventBus<LedgerContext>("kafka");
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddEventBus<LedgerContext>("kafka"));
        Assert.Contains("twice", error.Message);
    }

    [Fact]
    public void Subscriptions_are_checked_when_they_are_added()
    {
        var bus = Builder().AddEventBus<LedgerContext>("kafka").AddSubscription<SomethingHappenedIntegrationEvent, SomethingHandler>();

        Assert.Contains("already subscribed", Assert.Throws<InvalidOperationException>(
            () => bus.AddSubscription<SomethingHappenedIntegrationEvent, SomethingHandler>()).Message);
        // Events are routed by type name, so two types with one name cannot both be handled.
        Assert.Contains("rename one", Assert.Throws<InvalidOperationException>(
            () => bus.AddSubscription<Other.SomethingHappenedIntegrationEvent, Other.Handler>()).Message);
    }

    [Fact]
    public async Task Bad_settings_stop_the_host_at_start_with_every_problem_named()
    {
        var builder = Builder(("EventBus:TopicPartitions", "0"), ("EventBus:MaxDeliveryAttempts", "0"));
        builder.AddLedger();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("EventBus:TopicPartitions", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("EventBus:MaxDeliveryAttempts", StringComparison.Ordinal));
    }

    [Fact]
    public void The_group_defaults_to_the_application_name_and_names_the_dead_letter_topic()
    {
        var builder = Builder(("EventBus:TopicPrefix", "dev."));
        builder.AddLedger();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<EventBusOptions>>().Value;

        Assert.Equal("Ordering.Api", options.GroupId);
        Assert.Equal("dev.Ordering.Api.dead-letter", options.DeadLetterTopic);
    }

    [Fact]
    public async Task An_event_added_to_the_outbox_carries_its_topic_key_payload_and_the_current_trace()
    {
        var builder = Builder(("EventBus:TopicPrefix", "dev."));
        builder.AddLedger();
        using var host = builder.Build();
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerContext>();
        var @event = new OrderPlacedIntegrationEvent(Guid.NewGuid(), "account-7", 12m, 1);

        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        request.TraceStateString = "shop=1";
        var keyed = db.AddIntegrationEvent(@event, partitionKey: "account-7");
        request.Stop();
        var unkeyed = db.AddIntegrationEvent(new OrderPlacedIntegrationEvent(Guid.NewGuid(), "account-8", 1m, 1));

        Assert.Equal("dev.ledger.orders", keyed.Topic);
        Assert.Equal("account-7", keyed.PartitionKey);
        Assert.Equal(nameof(OrderPlacedIntegrationEvent), keyed.EventType);
        Assert.Equal(@event.Id, keyed.EventId);
        Assert.Contains("\"accountId\":\"account-7\"", keyed.Payload);
        Assert.Equal(request.Id, keyed.TraceParent);
        Assert.Equal("shop=1", keyed.TraceState);
        Assert.Equal(unkeyed.EventId.ToString(), unkeyed.PartitionKey);
        Assert.Null(unkeyed.TraceParent);
        Assert.Equal(2, db.ChangeTracker.Entries<OutboxMessage>().Count(e => e.State == EntityState.Added));
        Assert.Throws<ArgumentException>(() => db.AddIntegrationEvent(@event, partitionKey: new string('k', 201)));
    }

    [Fact]
    public async Task A_context_without_the_bus_tables_stops_the_host_at_start_saying_what_to_do()
    {
        var builder = Builder();
        builder.AddNpgsqlDbContext<NoBusContext>(LedgerExtensions.DatabaseConnectionName);
        builder.AddEventBus<NoBusContext>("kafka");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("modelBuilder.AddEventBusTables()", error.Message);
    }

    [Fact]
    public async Task The_context_keeps_statements_prepared_and_skips_the_reset_unless_the_connection_string_says_otherwise()
    {
        var defaults = Builder();
        defaults.AddNpgsqlDbContext<LedgerContext>(LedgerExtensions.DatabaseConnectionName);
        var chosen = Builder(("ConnectionStrings:ledgerdb", "Host=127.0.0.1;Port=1;Database=ledger;Max Auto Prepare=0;No Reset On Close=false"));
        chosen.AddNpgsqlDbContext<LedgerContext>(LedgerExtensions.DatabaseConnectionName);

        var byDefault = await ConnectionSettingsAsync(defaults);
        var asWritten = await ConnectionSettingsAsync(chosen);

        Assert.Equal(NpgsqlDbContextExtensions.MaxAutoPreparedStatements, byDefault.MaxAutoPrepare);
        Assert.True(byDefault.NoResetOnClose);
        Assert.Equal("ledger", byDefault.Database);
        Assert.Equal(0, asWritten.MaxAutoPrepare);
        Assert.False(asWritten.NoResetOnClose);
    }

    private static async Task<Npgsql.NpgsqlConnectionStringBuilder> ConnectionSettingsAsync(HostApplicationBuilder builder)
    {
        using var host = builder.Build();
        await using var scope = host.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<LedgerContext>();
        return new Npgsql.NpgsqlConnectionStringBuilder(context.Database.GetConnectionString());
    }

    [Fact]
    public void Adding_an_event_to_a_context_without_the_bus_tables_says_what_to_do()
    {
        using var db = new NoBusContext(new DbContextOptionsBuilder<NoBusContext>().UseNpgsql("Host=127.0.0.1;Port=1").Options);

        var error = Assert.Throws<InvalidOperationException>(() => db.AddIntegrationEvent(new SomethingHappenedIntegrationEvent("x")));

        Assert.Contains("modelBuilder.AddEventBusTables()", error.Message);
    }

    [Fact]
    public async Task Adding_an_event_without_the_bus_registered_says_what_to_do()
    {
        var builder = Builder();
        builder.AddNpgsqlDbContext<LedgerContext>(LedgerExtensions.DatabaseConnectionName);
        using var host = builder.Build();
        await using var scope = host.Services.CreateAsyncScope();
        var registered = scope.ServiceProvider.GetRequiredService<LedgerContext>();
        using var created = Ledger.OpenContext("Host=127.0.0.1;Port=1");

        Assert.Contains("AddEventBus<LedgerContext>", Assert.Throws<InvalidOperationException>(
            () => registered.AddIntegrationEvent(new SomethingHappenedIntegrationEvent("x"))).Message);
        Assert.Contains("dependency injection", Assert.Throws<InvalidOperationException>(
            () => created.AddIntegrationEvent(new SomethingHappenedIntegrationEvent("x"))).Message);
    }

    [Fact]
    public void The_dead_letter_api_needs_the_bus()
    {
        var app = WebApplication.CreateBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapDeadLetterApi());

        Assert.Contains("AddEventBus", error.Message);
    }
}
