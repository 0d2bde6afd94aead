using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;
using Ordering.Api.Services;
using Shop.EventBus;
using Shop.IntegrationEvents;

namespace Ordering.Api.Apis;

public static class OrdersApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("api/ordering/orders").WithTags("Orders").RequireAuthorization();

        api.MapPost("/", CreateOrder)
            .WithName("CreateOrder")
            .WithSummary("Place an order for the signed-in user")
            .WithDescription("Prices the cart with the catalog's current prices and submits the order to the checkout saga. " +
                             "The Idempotency-Key header is required: the same key with the same cart returns the same order (200), " +
                             "with a different cart 422; a new key creates an order (201). With expectedTotal (the total the buyer was shown), " +
                             "an order that the current prices would total differently is not placed: 409 with errors.expectedTotal and the current " +
                             "total, currency and lines; the key is not used up, so the order can be sent again with it after review.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapGet("/", ListOrders)
            .WithName("ListOrders")
            .WithSummary("List the signed-in user's orders, newest first");

        api.MapGet("/{id:guid}", GetOrder)
            .WithName("GetOrder")
            .WithSummary("Get one of the signed-in user's orders with its status history");

        api.MapPost("/{id:guid}/cancel", CancelOrder)
            .WithName("CancelOrder")
            .WithSummary("Cancel an order that has not been paid for")
            .WithDescription("Releases its stock (and refunds a charge that raced with the cancellation). 409 once the order is paid or confirmed.");

        api.MapGet("/{id:guid}/events", StreamOrder)
            .WithName("StreamOrderStatus")
            .WithSummary("Server-sent events: the order's status changes, ending with its final status")
            .WithDescription("With Last-Event-ID, the changes after it. 204 when that was the final change: nothing more will come. " +
                             "429 when the user already has Ordering:MaxStreamsPerBuyer status streams open.");

        api.MapGet("/events", StreamOrders)
            .WithName("StreamAllOrderStatus")
            .WithSummary("Server-sent events: status changes of all the signed-in user's orders")
            .WithDescription("With Last-Event-ID (a cursor, not a history id: see the service's README), every change since it, some perhaps again. " +
                             "429 when the user already has Ordering:MaxStreamsPerBuyer status streams open.");

        return app;
    }

    public static async Task<Results<Created<OrderResponse>, Ok<OrderResponse>, ValidationProblem, ProblemHttpResult>> CreateOrder(
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        CreateOrderRequest request,
        ClaimsPrincipal user,
        HttpContext httpContext,
        OrderPlacement placement,
        OrderQueries queries,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "The Idempotency-Key header is required.",
                detail: "Send a unique value (e.g. a UUID) per order in the Idempotency-Key header, and the same value when retrying the same order.");
        }

        if (idempotencyKey.Length > OrderingContext.MaxIdempotencyKeyLength)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "The Idempotency-Key header is too long.",
                detail: $"An Idempotency-Key can have at most {OrderingContext.MaxIdempotencyKeyLength} characters; this one has {idempotencyKey.Length}.");
        }

        switch (await placement.PlaceAsync(BuyerId(user), idempotencyKey, request.Items, request.ExpectedTotal, cancellationToken))
        {
            case PlaceOrderResult.Created created:
                // Pictures as products just returned them with the prices: no second look-up for a new order.
                return TypedResults.Created($"/api/ordering/orders/{created.Order.Id}", OrderQueries.ToResponse(created.Order, created.Pictures));
            case PlaceOrderResult.Replayed replayed:
                httpContext.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Ok(OrderQueries.ToResponse(replayed.Order, await queries.PicturesAsync(replayed.Order.Lines, cancellationToken)));
            case PlaceOrderResult.KeyReused reused:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "This Idempotency-Key was already used for a different order.",
                    detail: $"The key '{idempotencyKey}' placed order {reused.Order.Id} with another cart. Use a new key for a new order.",
                    extensions: new Dictionary<string, object?> { ["orderId"] = reused.Order.Id });
            case PlaceOrderResult.Invalid invalid:
                return TypedResults.ValidationProblem(invalid.Errors, title: "The order request is invalid.");
            case PlaceOrderResult.TotalChanged changed:
                return TotalChanged(changed);
            default:
                return QuotesApi.CatalogUnavailable(
                    httpContext, "Prices could not be read from the products service, so no order was placed. Retry with the same Idempotency-Key.");
        }
    }

    public static async Task<Results<Ok<OrderPage>, ValidationProblem>> ListOrders(
        ClaimsPrincipal user,
        OrderQueries queries,
        CancellationToken cancellationToken,
        int pageIndex = 0,
        int pageSize = 10)
    {
        var errors = new Dictionary<string, string[]>();
        if (pageIndex < 0 || (long)pageIndex * Math.Max(pageSize, 1) > int.MaxValue)
        {
            errors["pageIndex"] = ["pageIndex must be 0 or greater and within the list."];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."];
        }

        return errors.Count > 0
            ? TypedResults.ValidationProblem(errors)
            : TypedResults.Ok(await queries.ListAsync(BuyerId(user), pageIndex, pageSize, cancellationToken));
    }

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> GetOrder(
        Guid id,
        ClaimsPrincipal user,
        OrderQueries queries,
        CancellationToken cancellationToken) =>
        await queries.GetAsync(BuyerId(user), id, cancellationToken) is { } order
            ? TypedResults.Ok(order)
            : OrderNotFound(id);

    public static async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> CancelOrder(
        Guid id,
        ClaimsPrincipal user,
        OrderingContext db,
        OrderQueries queries,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var buyerId = BuyerId(user);
        // Saga events may change the order at the same moment: a lost race (row version) is tried again on fresh data.
        for (var attempt = 1; ; attempt++)
        {
            var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == id && o.BuyerId == buyerId, cancellationToken);
            if (order is null)
            {
                return OrderNotFound(id);
            }

            if (order.Status != OrderStatus.Cancelled)
            {
                if (!order.Cancel("Cancelled by the buyer.", timeProvider.GetUtcNow()))
                {
                    return TypedResults.Problem(
                        statusCode: StatusCodes.Status409Conflict,
                        title: "The order can no longer be cancelled.",
                        detail: $"Order {id} is {order.Status}: only orders not yet paid for can be cancelled.");
                }

                db.AddIntegrationEvent(new OrderCancelledIntegrationEvent(order.Id, order.CancellationReason!), order.Id.ToString());
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateConcurrencyException) when (attempt < 3)
                {
                    db.ChangeTracker.Clear();
                    continue;
                }
            }

            return TypedResults.Ok((await queries.GetAsync(buyerId, id, cancellationToken))!);
        }
    }

    public static async Task<Results<OrderStatusStream, NoContent, ValidationProblem, ProblemHttpResult>> StreamOrder(
        Guid id,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        ClaimsPrincipal user,
        OrderStatusFeed feed,
        OrderQueries queries,
        OrderStreamSlots slots,
        CancellationToken cancellationToken)
    {
        if (!TryReadEventId(lastEventId, out var resumeAfter))
        {
            return InvalidEventId();
        }

        var buyerId = BuyerId(user);
        // One order's history is short: without Last-Event-ID its stream starts from the first change.
        var afterId = resumeAfter ?? 0;
        // A browser's EventSource reconnects whenever a stream ends, with the last id it saw. Once that is the order's
        // final change, 204 tells it there is nothing more (the one answer that stops its reconnecting).
        return await queries.StreamStateAsync(buyerId, id, afterId, cancellationToken) switch
        {
            OrderStreamState.NotFound => OrderNotFound(id),
            OrderStreamState.Ended => TypedResults.NoContent(),
            _ => new OrderStatusStream(buyerId, id, afterId, feed, queries, slots),
        };
    }

    public static Results<OrderStatusStream, ValidationProblem> StreamOrders(
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        ClaimsPrincipal user,
        OrderStatusFeed feed,
        OrderQueries queries,
        OrderStreamSlots slots) =>
        // Without Last-Event-ID only new changes are streamed: the whole history of every order would be a flood.
        TryReadEventId(lastEventId, out var afterId)
            ? new OrderStatusStream(BuyerId(user), null, afterId, feed, queries, slots)
            : InvalidEventId();

    /// <summary>
    /// <c>Last-Event-ID</c>: absent (or empty), or the id of an event a stream sent, 0 meaning "from the start". Anything
    /// else is refused rather than read as 0, which would replay the buyer's whole history.
    /// </summary>
    private static bool TryReadEventId(string? header, out long? afterId)
    {
        afterId = null;
        if (string.IsNullOrEmpty(header))
        {
            return true;
        }

        if (!long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return false;
        }

        afterId = id;
        return true;
    }

    private static ValidationProblem InvalidEventId() => TypedResults.ValidationProblem(
        new Dictionary<string, string[]>
        {
            ["Last-Event-ID"] = ["Last-Event-ID must be the id of an event this stream sent: a whole number, 0 for the start of the history."],
        },
        title: "The Last-Event-ID header is invalid.");

    /// <summary>
    /// 409: the prices changed since the buyer was shown the cart. The current lines and total come with it, so a client
    /// can show them for review without asking again.
    /// </summary>
    private static ProblemHttpResult TotalChanged(PlaceOrderResult.TotalChanged changed)
    {
        var message = string.Create(
            CultureInfo.InvariantCulture,
            $"The items now total {changed.Quote.Total:0.00} {changed.Currency}, not the expected {changed.ExpectedTotal:0.00} {changed.Currency}: prices changed since the cart was shown.");
        return TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            type: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
            title: "The order's total has changed.",
            detail: message + " No order was placed. Show the new prices, then send the order again with the new expectedTotal (the same Idempotency-Key may be used).",
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = new Dictionary<string, string[]> { ["expectedTotal"] = [message] },
                ["expectedTotal"] = changed.ExpectedTotal,
                ["total"] = changed.Quote.Total,
                ["currency"] = changed.Currency,
                ["lines"] = changed.Quote.Lines,
            });
    }

    private static ProblemHttpResult OrderNotFound(Guid id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Order not found.",
        detail: $"You have no order {id}.");

    /// <summary>The token's subject: the only user an order is ever read or written for.</summary>
    private static string BuyerId(ClaimsPrincipal user) =>
        user.FindFirstValue("sub") is { Length: > 0 } subject
            ? subject
            : throw new InvalidOperationException("An authenticated request carries no 'sub' claim.");
}
