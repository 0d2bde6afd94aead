using System.IO.Pipelines;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Ordering.Api.Apis;
using Ordering.Api.Infrastructure;
using Ordering.Api.Services;
using OrderingService = Ordering.Api.Extensions.Extensions;

namespace Ordering.Tests;

/// <summary>
/// The stream of all a buyer's orders, resumed with <c>Last-Event-ID</c>, misses no change. History ids come from a
/// sequence at insert time, so changes of different orders commit out of id order: resuming "after id N" skipped a
/// change with a lower id that committed after the client saw N (a probe lost final cancellations this way). Real
/// PostgreSQL, its trigger and a listener, two transactions on two connections.
/// </summary>
[Collection(OrderingDatabaseCollection.Name)]
public sealed class OrderStreamResumeTests(OrderingDatabaseFixture database) : OrderingDatabaseTest(database)
{
    private const string Buyer = "ada";

    [Fact]
    public async Task A_change_that_commits_after_a_later_numbered_one_is_sent_when_the_client_resumes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var orderA = await SeedOrderAsync(Buyer);
        var orderB = await SeedOrderAsync(Buyer);
        var feed = new OrderStatusFeed();
        var connectionString = Ordering.Services.GetRequiredService<IConfiguration>().GetConnectionString(OrderingService.DatabaseConnectionName)!;
        using var listener = new OrderStatusListener(Ordering.Services.GetRequiredService<IConfiguration>(), feed, TimeProvider.System, NullLogger<OrderStatusListener>.Instance);
        await listener.StartAsync(ct);

        string lastEventId;
        await using (var first = await OpenListeningAsync(feed, ct))
        {
            await using var t1 = await BeginAsync(connectionString, ct);
            await InsertChangeAsync(t1, orderA, "Cancelled", ct);
            await using var t2 = await BeginAsync(connectionString, ct);
            await InsertChangeAsync(t2, orderB, "Cancelled", ct);
            await t2.Transaction.CommitAsync(ct);

            var seen = await first.NextAsync(e => e.OrderId == orderB, TimeSpan.FromSeconds(10));
            lastEventId = seen.EventId;

            // The client goes away; then A's change, numbered before B's, commits.
            await first.DisposeAsync();
            await t1.Transaction.CommitAsync(ct);
        }

        await using var resumed = Open(feed, long.Parse(lastEventId, System.Globalization.CultureInfo.InvariantCulture), ct);
        var resent = new List<SentEvent>();
        while (await resumed.NextAsync(TimeSpan.FromSeconds(3)) is { } sent)
        {
            resent.Add(sent);
        }

        Assert.Contains(resent, e => e.OrderId == orderA && e.Status == "Cancelled");
        // The cursor is where A's transaction was still running, not the start of the history: no order is sent whole.
        Assert.All(resent, e => Assert.Equal("Cancelled", e.Status));
        await listener.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_resumed_stream_ends_each_order_on_its_newest_change_when_an_older_transaction_recorded_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var orderId = await SeedOrderAsync(Buyer);
        var connectionString = Ordering.Services.GetRequiredService<IConfiguration>().GetConnectionString(OrderingService.DatabaseConnectionName)!;

        // The cancellation's transaction starts first, so it has the older id, but records its change last.
        await using var older = await BeginAsync(connectionString, ct);
        await TransactionIdAsync(older, ct);
        await using var newer = await BeginAsync(connectionString, ct);
        await InsertChangeAsync(newer, orderId, "StockReserved", ct);
        var cursor = await TransactionIdAsync(newer, ct);
        await newer.Transaction.CommitAsync(ct);
        await InsertChangeAsync(older, orderId, "Cancelled", ct);
        await older.Transaction.CommitAsync(ct);

        // A client resuming there has both changes already; sent the reservation again, it must get the cancellation
        // after it, not be left showing a status the order has left.
        await using var resumed = Open(new OrderStatusFeed(), cursor, ct);
        var reserved = await resumed.NextAsync(e => e.OrderId == orderId, TimeSpan.FromSeconds(10));
        Assert.Equal("StockReserved", reserved.Status);
        var last = await resumed.NextAsync(e => e.OrderId == orderId, TimeSpan.FromSeconds(5));
        Assert.Equal("Cancelled", last.Status);
    }

    private static async Task<long> TransactionIdAsync(OpenTransaction open, CancellationToken ct)
    {
        await using var query = new NpgsqlCommand("SELECT pg_current_xact_id()::text::bigint", open.Connection, open.Transaction);
        return (long)(await query.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// A live stream that has seen a change, so its listener listens: the listener ends the streams that subscribed
    /// before it did (they may have missed changes), so one is opened again until it sees one.
    /// </summary>
    private async Task<RunningStream> OpenListeningAsync(OrderStatusFeed feed, CancellationToken ct)
    {
        while (true)
        {
            var stream = Open(feed, lastEventId: null, ct);
            while (!stream.Ended)
            {
                ct.ThrowIfCancellationRequested();
                await SeedOrderAsync(Buyer);
                if (await stream.NextAsync(TimeSpan.FromSeconds(2)) is not null)
                {
                    return stream;
                }
            }

            await stream.DisposeAsync();
        }
    }

    private static async Task<OpenTransaction> BeginAsync(string connectionString, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        return new OpenTransaction(connection, await connection.BeginTransactionAsync(ct));
    }

    private static async Task InsertChangeAsync(OpenTransaction open, Guid orderId, string status, CancellationToken ct)
    {
        await using var insert = new NpgsqlCommand(
            """INSERT INTO "OrderStatusHistory" ("OrderId", "Status", "At") VALUES (@order, @status, now())""",
            open.Connection, open.Transaction);
        insert.Parameters.AddWithValue("order", orderId);
        insert.Parameters.AddWithValue("status", status);
        await insert.ExecuteNonQueryAsync(ct);
    }

    private RunningStream Open(OrderStatusFeed feed, long? lastEventId, CancellationToken ct)
    {
        var scope = Ordering.Services.CreateAsyncScope();
        var queries = new OrderQueries(scope.ServiceProvider.GetRequiredService<OrderingContext>());
        var slots = new OrderStreamSlots(Options.Create(new OrderingOptions()));
        var pipe = new Pipe();
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider(),
            Response = { Body = pipe.Writer.AsStream() },
            RequestAborted = stop.Token,
        };
        var run = new OrderStatusStream(Buyer, null, lastEventId, feed, queries, slots).ExecuteAsync(context)
            .ContinueWith(_ => pipe.Writer.Complete(), TaskScheduler.Default);
        return new RunningStream(scope, stop, run, pipe.Reader.AsStream());
    }

    private sealed record OpenTransaction(NpgsqlConnection Connection, NpgsqlTransaction Transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Transaction.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }

    private sealed record SentEvent(string EventId, long Id, Guid OrderId, string Status);

    /// <summary>A stream being sent, its events read as they come.</summary>
    private sealed class RunningStream : IAsyncDisposable
    {
        private readonly AsyncServiceScope _scope;
        private readonly CancellationTokenSource _stop;
        private readonly Task _run;
        private readonly Channel<SentEvent> _events = Channel.CreateUnbounded<SentEvent>();
        private readonly Task _read;
        private bool _disposed;

        public bool Ended => _run.IsCompleted;

        public RunningStream(AsyncServiceScope scope, CancellationTokenSource stop, Task run, Stream body)
        {
            _scope = scope;
            _stop = stop;
            _run = run;
            _read = ReadAsync(new StreamReader(body));
        }

        /// <summary>The next <c>status</c> event, or null when none comes within <paramref name="wait"/>.</summary>
        public async Task<SentEvent?> NextAsync(TimeSpan wait)
        {
            using var timeout = new CancellationTokenSource(wait);
            try
            {
                return await _events.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return null;
            }
        }

        /// <summary>The first event that matches, skipping others; fails when none comes within <paramref name="wait"/>.</summary>
        public async Task<SentEvent> NextAsync(Func<SentEvent, bool> match, TimeSpan wait)
        {
            var deadline = TimeProvider.System.GetTimestamp() + (long)(wait.TotalSeconds * TimeProvider.System.TimestampFrequency);
            var skipped = new List<SentEvent>();
            while (TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), deadline) is var left && left > TimeSpan.Zero)
            {
                if (await NextAsync(left) is { } next)
                {
                    if (match(next))
                    {
                        return next;
                    }

                    skipped.Add(next);
                }
            }

            throw new Xunit.Sdk.XunitException($"The expected event did not come within {wait}; sent instead: {string.Join(", ", skipped)}");
        }

        private async Task ReadAsync(StreamReader reader)
        {
            using (reader)
            {
                string? id = null;
                while (await reader.ReadLineAsync() is { } line)
                {
                    if (line.StartsWith("id: ", StringComparison.Ordinal))
                    {
                        id = line[4..];
                    }
                    else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        var data = JsonDocument.Parse(line[6..]).RootElement;
                        await _events.Writer.WriteAsync(new SentEvent(
                            id ?? throw new InvalidOperationException("An event without an id."),
                            data.GetProperty("id").GetInt64(),
                            data.GetProperty("orderId").GetGuid(),
                            data.GetProperty("status").GetString()!));
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _stop.CancelAsync();
            await _run;
            await _read;
            _stop.Dispose();
            await _scope.DisposeAsync();
        }
    }
}
