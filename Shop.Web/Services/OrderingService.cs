using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Shop.Web.Cart;

namespace Shop.Web.Services;

/// <summary>
/// The outcome of placing an order: the order ordering placed (or had placed for the same key), or why it refused;
/// when it refused because the prices no longer make the total the shopper was shown, the cart as it is priced now.
/// </summary>
public sealed record PlaceOrderOutcome(Guid? OrderId, ApiProblem? Problem, RepricedOrder? Repriced = null);

/// <summary>Ordering's pricing of a cart whose prices changed since the shopper was shown it (its 409 for <c>expectedTotal</c>).</summary>
public sealed record RepricedOrder(decimal ExpectedTotal, decimal Total, string Currency, IReadOnlyList<RepricedLine> Lines);

public sealed record RepricedLine(int ProductId, string ProductName, decimal UnitPrice, int Quantity, decimal LineTotal);

/// <summary>
/// The signed-in user's orders, through the gateway with their access token: placing (with an Idempotency-Key),
/// listing, cancelling, and the order's status stream. The composed order page is <see cref="OrderDetailsService"/>'s.
/// </summary>
public sealed partial class OrderingService(HttpClient http, ILogger<OrderingService> logger)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Places an order for <paramref name="lines"/>. Every try — the resilience handler's retries, the shopper's
    /// second click, a resubmitted page — carries the same <paramref name="idempotencyKey"/>, so ordering returns the
    /// order the first try placed instead of placing another. <paramref name="expectedTotal"/> is the total the
    /// shopper was shown: ordering places the order only if its prices still make it, and otherwise answers with the
    /// new prices (<see cref="PlaceOrderOutcome.Repriced"/>), placing nothing.
    /// </summary>
    public async Task<PlaceOrderOutcome> PlaceOrderAsync(
        string idempotencyKey, IReadOnlyList<CartLine> lines, decimal expectedTotal, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentNullException.ThrowIfNull(lines);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ordering/orders")
        {
            Content = JsonContent.Create(new
            {
                items = lines.Select(l => new { productId = l.ProductId, quantity = l.Quantity }),
                expectedTotal,
            }),
        };
        request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK
                && await response.Content.ReadFromJsonAsync<Order>(Json, cancellationToken) is { } order)
            {
                return new PlaceOrderOutcome(order.Id, null);
            }

            // Read once, parsed twice: as the problem, and as the new prices a refused total carries.
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var mediaType = response.Content.Headers.ContentType;
            response.Content = new ByteArrayContent(body) { Headers = { ContentType = mediaType } };
            var problem = await ApiProblem.ReadAsync(response, cancellationToken);
            LogRefused(logger, "place an order", problem.Status, problem.Title);
            return new PlaceOrderOutcome(null, problem, Repriced(problem, body));
        }
        catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
        {
            LogUnavailable(logger, exception);
            return new PlaceOrderOutcome(null, ApiProblem.NoAnswer);
        }
    }

    /// <exception cref="OrderingUnavailableException">No answer, or a refusal, with the message to show.</exception>
    public async Task<OrderPage> ListOrdersAsync(int pageIndex, int pageSize, CancellationToken cancellationToken = default) =>
        await GetAsync<OrderPage>(string.Create(CultureInfo.InvariantCulture, $"/api/ordering/orders?pageIndex={pageIndex}&pageSize={pageSize}"), cancellationToken)
        ?? throw new OrderingUnavailableException("Your orders could not be found.");

    /// <summary>Cancels an order not yet paid for: the order as it is now, or ordering's reason for refusing (409 once paid).</summary>
    public async Task<(Order? Order, ApiProblem? Problem)> CancelOrderAsync(Guid orderId, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await http.PostAsync($"/api/ordering/orders/{orderId}/cancel", content: null, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync<Order>(Json, cancellationToken), null);
            }

            var problem = await ApiProblem.ReadAsync(response, cancellationToken);
            LogRefused(logger, "cancel an order", problem.Status, problem.Title);
            return (null, problem);
        }
        catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
        {
            LogUnavailable(logger, exception);
            return (null, ApiProblem.NoAnswer);
        }
    }

    /// <summary>
    /// Ordering's status stream of one order (server-sent events): the changes after <paramref name="lastEventId"/>
    /// (all of them when null), then each change as it happens; it ends after the final status. The client's
    /// timeouts and retries cover opening the stream only (until its headers arrive), never its length.
    /// </summary>
    /// <exception cref="OrderingUnavailableException">The stream could not be opened.</exception>
    public async IAsyncEnumerable<OrderStatusEvent> StreamStatusAsync(Guid orderId, long? lastEventId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/ordering/orders/{orderId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
        {
            LogUnavailable(logger, exception);
            throw new OrderingUnavailableException(ApiProblem.NoAnswer.Message("Ordering"), exception);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var problem = await ApiProblem.ReadAsync(response, cancellationToken);
                LogRefused(logger, "follow an order", problem.Status, problem.Title);
                throw new OrderingUnavailableException(problem.Message("Ordering"), status: problem.Status);
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken))
            {
                if (item.EventType == "status" && JsonSerializer.Deserialize<OrderStatusEvent>(item.Data, Json) is { } change)
                {
                    yield return change;
                }
            }
        }
    }

    /// <summary>The cart as ordering priced it, from its 409 refusing an order whose prices changed; null for any other refusal.</summary>
    private static RepricedOrder? Repriced(ApiProblem problem, byte[] body)
    {
        if (problem.Status != StatusCodes.Status409Conflict || !problem.Errors.ContainsKey("expectedTotal"))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<RepricedOrder>(body, Json) is { Lines.Count: > 0 } repriced ? repriced : null;
        }
        catch (JsonException)
        {
            // Not the prices after all: the refusal's own words have to do.
            return null;
        }
    }

    private async Task<T?> GetAsync<T>(string uri, CancellationToken cancellationToken) where T : class
    {
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                var problem = await ApiProblem.ReadAsync(response, cancellationToken);
                LogRefused(logger, "read orders", problem.Status, problem.Title);
                throw new OrderingUnavailableException(problem.Message("Ordering"), status: problem.Status);
            }

            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
        }
        catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
        {
            LogUnavailable(logger, exception);
            throw new OrderingUnavailableException(ApiProblem.NoAnswer.Message("Ordering"), exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ordering could not be reached through the gateway")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ordering refused to {Action} ({Status}): {Title}")]
    private static partial void LogRefused(ILogger logger, string action, int status, string? title);
}

/// <summary>Ordering could not serve the page; <see cref="Exception.Message"/> is what the shopper is told.</summary>
public sealed class OrderingUnavailableException(string message, Exception? innerException = null, int? status = null)
    : Exception(message, innerException)
{
    /// <summary>The HTTP status ordering (or the gateway) answered with, when it answered.</summary>
    public int? Status { get; } = status;
}
