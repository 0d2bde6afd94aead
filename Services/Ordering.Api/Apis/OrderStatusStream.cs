using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Ordering.Api.Model;
using Ordering.Api.Services;

namespace Ordering.Api.Apis;

/// <summary>
/// A server-sent events stream of order status changes (<c>text/event-stream</c>): first the changes the client missed
/// since <c>afterId</c> (its <c>Last-Event-ID</c>; none when it is null), then each change as it commits. Every event
/// is <c>event: status</c> with an id a reconnecting <c>EventSource</c> resumes from: for the stream of one order, the
/// history entry's id (one order's changes commit in id order); for the stream of all the buyer's orders, a cursor of
/// transaction ids (<see cref="CommittedChange"/>), since changes of different orders do not. Of each order, only
/// changes newer than the last one sent are sent. A comment line every <see cref="HeartbeatInterval"/> keeps idle
/// connections (and proxies) open. A stream of one order ends after its final status.
/// <para>
/// A buyer has at most <see cref="OrderStreamSlots.Limit"/> streams open at once; one more is a 429 problem, unless it
/// is the stream of an order that has ended, which is sent whole at once and needs no slot. The slot is held while the
/// stream runs and released when it ends, however it ends (its last event, the client going away).
/// </para>
/// </summary>
public sealed class OrderStatusStream(
    string buyerId,
    Guid? orderId,
    long? afterId,
    OrderStatusFeed feed,
    OrderQueries queries,
    OrderStreamSlots slots) : IResult, IEndpointMetadataProvider
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>The <c>type</c> of the problem that refuses a stream beyond the buyer's limit: 429 Too Many Requests.</summary>
    public const string TooManyStreamsType = "https://www.rfc-editor.org/rfc/rfc6585#section-4";

    private const int CatchUpBatch = 500;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var cancellationToken = httpContext.RequestAborted;
        using var slot = slots.TryTake(buyerId);
        IAsyncEnumerable<Sent?> changes;
        if (slot is not null)
        {
            changes = ReadAsync(cancellationToken);
        }
        else if (await FinalChangesAsync(cancellationToken) is { } finalChanges)
        {
            // An order that has ended needs no slot: its stream is its last changes, sent at once, and then it ends.
            changes = finalChanges.Select(change => (Sent?)new Sent(change.Id, change)).ToAsyncEnumerable();
        }
        else
        {
            await TooManyStreams(slots.Limit).ExecuteAsync(httpContext);
            return;
        }

        var response = httpContext.Response;
        var json = httpContext.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx would otherwise hold events back to fill their buffers.
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.FlushAsync(cancellationToken);

        try
        {
            await foreach (var sent in changes)
            {
                var text = sent is not { } e
                    ? ": keep-alive\n\n"
                    : string.Create(CultureInfo.InvariantCulture, $"id: {e.EventId}\nevent: status\ndata: {JsonSerializer.Serialize(e.Change, json)}\n\n");
                await response.WriteAsync(text, cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    /// <summary>
    /// For one order's stream: its changes after <see cref="afterId"/> through its final one, when it has ended; null
    /// when it has not (or this is the stream of all the buyer's orders, which never ends).
    /// </summary>
    private async Task<List<OrderStatusEvent>?> FinalChangesAsync(CancellationToken cancellationToken)
    {
        if (orderId is null)
        {
            return null;
        }

        // One order's history is a handful of changes, well within one batch.
        var history = await queries.ChangesAsync(buyerId, orderId, afterId ?? 0, CatchUpBatch, cancellationToken);
        var final = history.FindIndex(change => change.IsFinal);
        return final < 0 ? null : [.. history.Take(final + 1)];
    }

    /// <summary>Changes to send, in order; null is a heartbeat.</summary>
    private async IAsyncEnumerable<Sent?> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Subscribe before reading the history, so nothing committed in between is missed. A change may come both ways,
        // and one that commits between two pages of history comes live after the later page, which may hold a newer
        // change of its order: of each order only changes newer than the last one sent are sent.
        using var subscription = feed.Subscribe(buyerId);
        var newest = new Dictionary<Guid, long>();
        var cursor = afterId ?? 0;
        if (afterId is { } resumeFrom)
        {
            for (var last = orderId is null ? 0 : resumeFrom; ;)
            {
                var history = orderId is null
                    ? await queries.ChangesSinceAsync(buyerId, resumeFrom, last, CatchUpBatch, cancellationToken)
                    : await queries.ChangesAsync(buyerId, orderId, last, CatchUpBatch, cancellationToken);
                foreach (var change in history)
                {
                    newest[change.OrderId] = last = change.Id;
                    // A client that drops during the catch-up still needs all of it: its cursor stays where it was.
                    yield return new Sent(orderId is null ? resumeFrom : change.Id, change);
                    if (orderId is not null && change.IsFinal)
                    {
                        yield break;
                    }
                }

                if (history.Count < CatchUpBatch)
                {
                    break;
                }
            }
        }

        var reader = subscription.Changes;
        while (true)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(HeartbeatInterval);
            bool more;
            try
            {
                more = await reader.WaitToReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                more = true;
            }

            if (!more)
            {
                yield break;
            }

            if (!reader.TryRead(out var committed))
            {
                yield return null;
                continue;
            }

            var change = committed.Change;
            if ((orderId is { } id && change.OrderId != id) || (newest.TryGetValue(change.OrderId, out var sent) && change.Id <= sent))
            {
                continue;
            }

            newest[change.OrderId] = change.Id;
            cursor = Math.Max(cursor, committed.Cursor);
            yield return new Sent(orderId is null ? cursor : change.Id, change);
            if (orderId is not null && change.IsFinal)
            {
                yield break;
            }
        }
    }

    /// <summary>A change and the id of its event.</summary>
    private readonly record struct Sent(long EventId, OrderStatusEvent Change);

    private static ProblemHttpResult TooManyStreams(int limit) => TypedResults.Problem(
        statusCode: StatusCodes.Status429TooManyRequests,
        type: TooManyStreamsType,
        title: "Too many order status streams.",
        detail: $"You already have {limit} order status streams open, the most one user may have at once. " +
                "Close one (a page following an order) and try again.");

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(OrderStatusEvent), ["text/event-stream"]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests, typeof(ProblemDetails), ["application/problem+json"]));
    }
}
