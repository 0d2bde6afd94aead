using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LedgerService;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Shop.EventBus.Tests;

[Collection(BusCollection.Name)]
public sealed class DeadLetterTests(InfrastructureFixture infrastructure, ITestOutputHelper output)
{
    private const string Api = "/event-bus/dead-letters";

    [Fact]
    public async Task A_handler_that_says_no_attempt_can_succeed_has_its_message_dead_lettered_without_retries()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup, configure: options =>
        {
            options.MaxBatchSize = 1;
            // A retry would wait longer than the test waits for the dead letter below.
            options.RetryDelay = TimeSpan.FromMinutes(1);
            options.MaxRetryDelay = TimeSpan.FromMinutes(1);
            options.MaxDeliveryAttempts = 2;
        });
        using var metrics = new MeterRecorder(ledger.Services);
        var placed = await ledger.PlaceOrdersAsync(count: 3);
        var unhandleable = placed[1];
        ledger.Probe.MakeUnhandleable(unhandleable.Id, nameof(OrderAuditHandler));
        await ledger.StartAsync();

        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 2, "the other events are audited");
        await Eventually.HoldsAsync(() => KafkaTopic.Count(setup.Kafka, setup.DeadLetterTopic) > 0, "the message is dead-lettered");
        Assert.Equal(1, ledger.Probe.Attempts[(unhandleable.Id, nameof(OrderAuditHandler))]);
        var deadLetter = KafkaTopic.ReadAll(setup.Kafka, setup.DeadLetterTopic).Single();
        Assert.Equal(unhandleable.Id.ToString(), deadLetter.Header(EventBusHeaders.EventId));
        Assert.Equal("1", deadLetter.Header(EventBusHeaders.DeadLetterAttempts));
        Assert.Equal(typeof(NonRetryableEventException).FullName, deadLetter.Header(EventBusHeaders.DeadLetterExceptionType));
        Assert.Contains("names an account the ledger does not have", deadLetter.Header(EventBusHeaders.DeadLetterError));
        Assert.Equal(0, metrics.Sum("shop.eventbus.messages.retried"));
        Assert.Equal(1, metrics.Sum("shop.eventbus.messages.dead_lettered"));
    }

    [Fact]
    public async Task A_poison_message_is_dead_lettered_with_its_origin_listed_and_processed_by_a_replay_once_fixed()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        // One message at a time, so the attempts counted below are the retries' alone (BatchTests covers a poison
        // message among others handled together).
        await using var ledger = LedgerHost.Build(setup, configure: options => options.MaxBatchSize = 1);
        using var metrics = new MeterRecorder(ledger.Services);
        var placed = await ledger.PlaceOrdersAsync(count: 3);
        var poison = placed[1];
        ledger.Probe.Poison(poison.Id, nameof(OrderAuditHandler));
        await ledger.StartAsync();

        // The consumer moves on past the poison message: the third event is handled by both handlers.
        await Eventually.HoldsAsync(async () => await Ledger.ReceiptCountAsync(setup.ConnectionString, nameof(OrderAuditHandler)) == 2, "the other events are audited");
        Assert.Equal(3, (await Ledger.ReceiptsAsync(setup.ConnectionString)).Count);
        Assert.Equal(3, ledger.Probe.Attempts[(poison.Id, nameof(OrderAuditHandler))]);
        // The crediting handler succeeded on the first attempt and was not run again by the retries.
        Assert.Equal(1, ledger.Probe.Attempts[(poison.Id, nameof(OrderPlacedHandler))]);

        var origin = KafkaTopic.ReadAll(setup.Kafka, setup.Topic).Single(m => m.Header(EventBusHeaders.EventId) == poison.Id.ToString());
        var deadLetter = KafkaTopic.ReadAll(setup.Kafka, setup.DeadLetterTopic).Single();
        Assert.Equal(origin.Message.Value, deadLetter.Message.Value);
        Assert.Equal(origin.Message.Key, deadLetter.Message.Key);
        Assert.Equal(poison.Id.ToString(), deadLetter.Header(EventBusHeaders.EventId));
        Assert.Equal(nameof(OrderPlacedIntegrationEvent), deadLetter.Header(EventBusHeaders.EventType));
        Assert.Equal(origin.Header(EventBusHeaders.TraceParent), deadLetter.Header(EventBusHeaders.TraceParent));
        Assert.Contains("the account is frozen", deadLetter.Header(EventBusHeaders.DeadLetterError));
        Assert.Equal("System.InvalidOperationException", deadLetter.Header(EventBusHeaders.DeadLetterExceptionType));
        Assert.Equal(setup.Topic, deadLetter.Header(EventBusHeaders.DeadLetterOriginTopic));
        Assert.Equal(origin.Partition.Value.ToString(CultureInfo.InvariantCulture), deadLetter.Header(EventBusHeaders.DeadLetterOriginPartition));
        Assert.Equal(origin.Offset.Value.ToString(CultureInfo.InvariantCulture), deadLetter.Header(EventBusHeaders.DeadLetterOriginOffset));
        Assert.Equal("3", deadLetter.Header(EventBusHeaders.DeadLetterAttempts));
        Assert.Equal(setup.GroupId, deadLetter.Header(EventBusHeaders.DeadLetterGroup));
        Assert.Equal(typeof(OrderAuditHandler).FullName, deadLetter.Header(EventBusHeaders.DeadLetterHandler));
        var failedAt = DateTimeOffset.Parse(deadLetter.Header(EventBusHeaders.DeadLetterTime)!, CultureInfo.InvariantCulture);
        Assert.InRange(failedAt, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow);
        Assert.Equal(1, metrics.Sum("shop.eventbus.messages.dead_lettered"));
        Assert.Equal(2, metrics.Sum("shop.eventbus.messages.retried"));

        // The consumer of the dead-letter topic stores it; the API lists it.
        DeadLetterSummary[] pending = [];
        await Eventually.HoldsAsync(async () => (pending = await ledger.Http.GetFromJsonAsync<DeadLetterSummary[]>(Api, JsonSerializerOptions.Web) ?? []).Length == 1,
            "the dead letter is listed");
        var listed = pending[0];
        Assert.Equal(poison.Id, listed.EventId);
        Assert.Equal(setup.Topic, listed.OriginTopic);
        Assert.Equal(origin.Offset.Value, listed.OriginOffset);
        Assert.Equal(3, listed.Attempts);
        Assert.Null(listed.ReplayedAt);

        var details = await ledger.Http.GetFromJsonAsync<DeadLetterDetails>($"{Api}/{listed.Id}", JsonSerializerOptions.Web);
        Assert.Equal(poison.OrderId, JsonSerializer.Deserialize<OrderPlacedIntegrationEvent>(details!.Payload, JsonSerializerOptions.Web)!.OrderId);
        Assert.Equal(nameof(OrderPlacedIntegrationEvent), details.Headers[EventBusHeaders.EventType]);
        Assert.DoesNotContain(details.Headers.Keys, k => k.StartsWith(EventBusHeaders.DeadLetterPrefix, StringComparison.Ordinal));

        // Replayed before the cause is fixed: it fails again and says why.
        using (var failed = await ledger.Http.PostAsync($"{Api}/{listed.Id}/replay", null))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
            var problem = await failed.Content.ReadFromJsonAsync<ProblemDetails>();
            Assert.Contains("the account is frozen", problem!.Detail);
        }

        ledger.Probe.Cure(poison.Id, nameof(OrderAuditHandler));
        using (var replayed = await ledger.Http.PostAsync($"{Api}/{listed.Id}/replay", null))
        {
            Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
            Assert.Equal("processed", (await replayed.Content.ReadFromJsonAsync<DeadLetterReplay>(JsonSerializerOptions.Web))!.Outcome);
        }

        Assert.Equal(3, (await Ledger.ReceiptsAsync(setup.ConnectionString, nameof(OrderAuditHandler))).Count);
        Assert.Equal(3, (await Ledger.ReceiptsAsync(setup.ConnectionString)).Count);
        Assert.Equal(placed.Sum(e => e.Amount), (await Ledger.QueryAsync(setup.ConnectionString, db => db.Accounts.SingleAsync())).Balance);
        Assert.Empty(await ledger.Http.GetFromJsonAsync<DeadLetterSummary[]>(Api, JsonSerializerOptions.Web) ?? []);
        var replayedList = await ledger.Http.GetFromJsonAsync<DeadLetterSummary[]>($"{Api}?status=replayed", JsonSerializerOptions.Web);
        var replayedOnce = Assert.Single(replayedList!);
        Assert.Equal(2, replayedOnce.ReplayCount);
        Assert.Null(replayedOnce.LastReplayError);

        // A second replay finds every handler's inbox record and changes nothing, the dead letter's record included.
        using (var again = await ledger.Http.PostAsync($"{Api}/{listed.Id}/replay", null))
        {
            Assert.Equal("already_processed", (await again.Content.ReadFromJsonAsync<DeadLetterReplay>(JsonSerializerOptions.Web))!.Outcome);
        }

        Assert.Equal(3, (await Ledger.ReceiptsAsync(setup.ConnectionString, nameof(OrderAuditHandler))).Count);
        var afterNoOp = Assert.Single(await ledger.Http.GetFromJsonAsync<DeadLetterSummary[]>($"{Api}?status=replayed", JsonSerializerOptions.Web) ?? []);
        Assert.Equal(2, afterNoOp.ReplayCount);
        Assert.Equal(replayedOnce.ReplayedAt, afterNoOp.ReplayedAt);

        using (var deleted = await ledger.Http.DeleteAsync($"{Api}/{listed.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await ledger.Http.GetAsync($"{Api}/{listed.Id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_dead_letter_of_a_failed_save_carries_the_database_error_behind_it()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = LedgerHost.Build(setup, configure: options =>
        {
            options.MaxBatchSize = 1;
            options.MaxDeliveryAttempts = 1;
        });
        var placed = await ledger.PlaceOrdersAsync(count: 1);
        ledger.Probe.MakeUnsavable(placed[0].Id, nameof(OrderAuditHandler));
        await ledger.StartAsync();

        await Eventually.HoldsAsync(() => KafkaTopic.Count(setup.Kafka, setup.DeadLetterTopic) > 0, "the message is dead-lettered");
        var deadLetter = KafkaTopic.ReadAll(setup.Kafka, setup.DeadLetterTopic).Single();
        const string RootCause = "value too long for type character varying(100)";
        // EF Core's own message says only "see the inner exception"; PostgreSQL's is what an operator needs.
        Assert.Equal(typeof(DbUpdateException).FullName, deadLetter.Header(EventBusHeaders.DeadLetterExceptionType));
        Assert.StartsWith("An error occurred while saving the entity changes.", deadLetter.Header(EventBusHeaders.DeadLetterError));
        Assert.Contains($"---> Npgsql.PostgresException: 22001: {RootCause}", deadLetter.Header(EventBusHeaders.DeadLetterError));
        Assert.Equal("Npgsql.PostgresException", deadLetter.Header(EventBusHeaders.DeadLetterRootExceptionType));
        Assert.Equal($"22001: {RootCause}", deadLetter.Header(EventBusHeaders.DeadLetterRootError));

        DeadLetterSummary[] pending = [];
        await Eventually.HoldsAsync(async () => (pending = await ledger.Http.GetFromJsonAsync<DeadLetterSummary[]>(Api, JsonSerializerOptions.Web) ?? []).Length == 1,
            "the dead letter is listed");
        Assert.Contains($"Npgsql.PostgresException: 22001: {RootCause}", pending[0].Error);

        using var failed = await ledger.Http.PostAsync($"{Api}/{pending[0].Id}/replay", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
        Assert.Contains(RootCause, (await failed.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
        var afterReplay = Assert.Single(await ledger.Http.GetFromJsonAsync<DeadLetterSummary[]>(Api, JsonSerializerOptions.Web) ?? []);
        Assert.Contains(RootCause, afterReplay.LastReplayError);
    }

    [Fact]
    public async Task The_api_refuses_bad_queries_with_problem_details()
    {
        var setup = await infrastructure.CreateLedgerAsync(output, Eventually.Timeout());
        await using var ledger = await LedgerHost.StartAsync(setup);

        foreach (var query in new[] { "?status=lost", "?limit=0", "?limit=501" })
        {
            using var response = await ledger.Http.GetAsync(Api + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using var missing = await ledger.Http.PostAsync($"{Api}/{Guid.NewGuid()}/replay", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
