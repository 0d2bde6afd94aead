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
/// A server-sent events stream of order status changes (<c>text/event-stream</c>): first the changes recorded after
/// <c>afterId</c> (the client's <c>Last-Event-ID</c>; none when it is null), then each change as it commits. Every event
/// is <c>event: status</c> with the history entry's id, so a reconnecting <c>EventSource</c> resumes where it left off.
/// A comment line every <see cref="HeartbeatInterval"/> keeps idle connections (and proxies) open. A stream of one
/// order ends after its final status.
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
        IAsyncEnumerable<OrderStatusEvent?> changes;
        if (slot is not null)
        {
            changes = ReadAsync(cancellationToken);
        }
        else if (await FinalChangesAsync(cancellationToken) is { } finalChanges)
        {
            // An order that has ended needs no slot: its stream is its last changes, sent at once, and then it ends.
            changes = finalChanges.ToAsyncEnumerable();
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
            await foreach (var change in changes)
            {
                var text = change is null
                    ? ": keep-alive\n\n"
                    : string.Create(CultureInfo.InvariantCulture, $"id: {change.Id}\nevent: status\ndata: {JsonSerializer.Serialize(change, json)}\n\n");
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
    private async Task<List<OrderStatusEvent?>?> FinalChangesAsync(CancellationToken cancellationToken)
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
    private async IAsyncEnumerable<OrderStatusEvent?> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Subscribe before reading the history, so nothing committed in between is missed; what both deliver is sent
        // once. Live changes are not filtered by id: changes of different orders may commit out of id order.
        using var subscription = feed.Subscribe(buyerId);
        var caughtUpIds = new HashSet<long>();
        var last = afterId ?? 0;
        for (var caughtUp = afterId is null; !caughtUp;)
        {
            var history = await queries.ChangesAsync(buyerId, orderId, last, CatchUpBatch, cancellationToken);
            foreach (var change in history)
            {
                yield return change;
                caughtUpIds.Add(change.Id);
                last = change.Id;
                if (orderId is not null && change.IsFinal)
                {
                    yield break;
                }
            }

            caughtUp = history.Count < CatchUpBatch;
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

            if (!reader.TryRead(out var change))
            {
                yield return null;
                continue;
            }

            if (caughtUpIds.Contains(change.Id) || (orderId is { } id && change.OrderId != id))
            {
                continue;
            }

            yield return change;
            if (orderId is not null && change.IsFinal)
            {
                yield break;
            }
        }
    }

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
