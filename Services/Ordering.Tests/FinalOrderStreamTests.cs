using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Ordering.Api.Apis;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Ordering.Api.Services;
using OrderLine = Ordering.Api.Model.OrderLine;

namespace Ordering.Tests;

/// <summary>
/// The stream of an order that has ended needs no slot: at the buyer's stream cap it is still sent (its changes
/// through the final one, then the end), where before it was refused with a 429 and the order page showed a stale
/// status. An order still under way is refused at the cap as before. Real PostgreSQL for the history.
/// </summary>
[Collection(OrderingDatabaseCollection.Name)]
public sealed class FinalOrderStreamTests(OrderingDatabaseFixture database) : OrderingDatabaseTest(database)
{
    private const string Buyer = "ada";

    [Fact]
    public async Task At_the_cap_an_ended_orders_stream_is_sent_whole_and_ends()
    {
        var orderId = await SeedOrderAsync(cancel: true);
        var slots = FullSlots();

        var (status, body) = await StreamAsync(orderId, afterId: 0, slots);

        Assert.Equal(StatusCodes.Status200OK, status);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.Contains("\"status\":\"Submitted\"", events[0], StringComparison.Ordinal);
        Assert.Contains("\"status\":\"Cancelled\"", events[1], StringComparison.Ordinal);
        Assert.All(events, e => Assert.Contains("event: status", e, StringComparison.Ordinal));
        // Served without a slot: the buyer's streams are still all taken, none more.
        Assert.Null(slots.TryTake(Buyer));
    }

    [Fact]
    public async Task At_the_cap_the_stream_of_an_order_under_way_is_refused_with_a_429()
    {
        var orderId = await SeedOrderAsync(cancel: false);

        var (status, body) = await StreamAsync(orderId, afterId: 0, FullSlots());

        Assert.Equal(StatusCodes.Status429TooManyRequests, status);
        Assert.Contains(OrderStatusStream.TooManyStreamsType, body, StringComparison.Ordinal);
    }

    /// <summary>Slots for one stream per buyer, the buyer's one taken.</summary>
    private static OrderStreamSlots FullSlots()
    {
        var slots = new OrderStreamSlots(Options.Create(new OrderingOptions { MaxStreamsPerBuyer = 1 }));
        Assert.NotNull(slots.TryTake(Buyer));
        return slots;
    }

    private async Task<(int Status, string Body)> StreamAsync(Guid orderId, long afterId, OrderStreamSlots slots)
    {
        await using var scope = Ordering.Services.CreateAsyncScope();
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        using var body = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = services, Response = { Body = body } };
        var queries = new OrderQueries(scope.ServiceProvider.GetRequiredService<OrderingContext>());
        // Bounded: a stream that did not end would wait for changes until this cancels it.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        context.RequestAborted = timeout.Token;

        await new OrderStatusStream(Buyer, orderId, afterId, new OrderStatusFeed(), queries, slots).ExecuteAsync(context);

        Assert.False(timeout.IsCancellationRequested, "The stream did not end by itself.");
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    private Task<Guid> SeedOrderAsync(bool cancel) =>
        SeedOrderAsync(Buyer, (order, now) => Assert.Equal(cancel, cancel && order.Cancel("Cancelled by the buyer.", now.AddSeconds(1))));
}
