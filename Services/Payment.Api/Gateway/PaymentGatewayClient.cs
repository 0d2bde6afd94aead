using System.Net;
using System.Text.Json.Serialization;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Payment.Api.Gateway;

/// <summary>
/// The payment gateway's API (<c>POST /v1/charges</c>, <c>POST /v1/refunds</c>, <c>GET /v1/charges/by-key/{key}</c>), called through the resilience
/// pipeline of <see cref="PaymentGatewayResilience"/>. Every request carries an <c>Idempotency-Key</c>: the gateway
/// settles a key once and answers a repeated one with the first answer, which is what makes retries safe.
/// </summary>
public sealed class PaymentGatewayClient(HttpClient http)
{
    public async Task<GatewayCharge> ChargeAsync(string idempotencyKey, decimal amount, string currency, string reference, CancellationToken cancellationToken) =>
        await SendAsync<GatewayCharge>("/v1/charges", idempotencyKey, new ChargeRequest(amount, currency, reference), cancellationToken);

    public async Task<GatewayRefund> RefundAsync(string idempotencyKey, string chargeId, decimal amount, CancellationToken cancellationToken) =>
        await SendAsync<GatewayRefund>("/v1/refunds", idempotencyKey, new RefundRequest(chargeId, amount), cancellationToken);

    /// <summary>
    /// What became of the charge sent under <paramref name="idempotencyKey"/>, without sending it again:
    /// <c>GET /v1/charges/by-key/{key}</c>. Null when the gateway never made it and no request with the key is under
    /// way (404); a request still being processed (409) is an outcome not known yet.
    /// </summary>
    public async Task<GatewayCharge?> FindChargeAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync<GatewayCharge>(HttpMethod.Get, $"/v1/charges/by-key/{Uri.EscapeDataString(idempotencyKey)}", null, null, cancellationToken);
        }
        catch (PaymentGatewayRejectedException exception) when (exception.StatusCode == StatusCodes.Status404NotFound)
        {
            return null;
        }
        catch (PaymentGatewayRejectedException exception) when (exception.StatusCode == StatusCodes.Status409Conflict)
        {
            throw new PaymentGatewayUnavailableException("The payment gateway is still processing a charge with this key.", exception, reachedGateway: true);
        }
    }

    private Task<T> SendAsync<T>(string path, string idempotencyKey, object body, CancellationToken cancellationToken) =>
        SendAsync<T>(HttpMethod.Post, path, idempotencyKey, body, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, string? idempotencyKey, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        // Each try the pipeline makes goes through GatewayTryTracker, which notes whether it may have reached the
        // gateway: a later try refused by the circuit does not undo what an earlier one may have done.
        var tries = GatewayTries.Track(request);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (BrokenCircuitException exception)
        {
            throw new PaymentGatewayUnavailableException("The circuit to the payment gateway is open: the call was not made.", exception, tries.MayHaveReachedGateway);
        }
        catch (RateLimiterRejectedException exception)
        {
            throw new PaymentGatewayUnavailableException("Too many calls to the payment gateway are under way (bulkhead full): the call was not made.", exception, tries.MayHaveReachedGateway);
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException
                                              or TaskCanceledException { InnerException: TimeoutException })
        {
            throw new PaymentGatewayUnavailableException($"The payment gateway did not answer: {exception.Message}", exception, tries.MayHaveReachedGateway);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
                    ?? throw new PaymentGatewayUnavailableException("The payment gateway answered with an empty body.", null, reachedGateway: true);
            }

            var detail = await response.Content.ReadAsStringAsync(cancellationToken);
            throw response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500
                ? new PaymentGatewayUnavailableException($"The payment gateway answered {(int)response.StatusCode} after the retries: {Shorten(detail)}", null, tries.MayHaveReachedGateway)
                : new PaymentGatewayRejectedException((int)response.StatusCode, Shorten(detail));
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private sealed record ChargeRequest(decimal Amount, string Currency, string Reference);

    private sealed record RefundRequest(string ChargeId, decimal Amount);
}

/// <summary>A charge as the gateway settled it: <c>succeeded</c> or <c>declined</c> (with a decline code).</summary>
public sealed record GatewayCharge(string Id, string Status, decimal Amount, string Currency, string? DeclineCode)
{
    [JsonIgnore]
    public bool Succeeded => Status == "succeeded";
}

public sealed record GatewayRefund(string Id, string ChargeId, string Status, decimal Amount);

/// <summary>The gateway could not be reached or did not settle the request: try again later with the same key.</summary>
public sealed class PaymentGatewayUnavailableException(string message, Exception? innerException, bool reachedGateway)
    : Exception(message, innerException)
{
    /// <summary>
    /// False when no try of the call can have been acted on: each was refused on this side (open circuit, full
    /// bulkhead) or answered 503, which the gateway documents as "nothing done". True as soon as one try timed out,
    /// lost its connection or got another 5xx, 408 or 429, even if a later try was refused.
    /// </summary>
    public bool ReachedGateway { get; } = reachedGateway;
}

/// <summary>The gateway refused the request itself (4xx): sending it again will not help.</summary>
public sealed class PaymentGatewayRejectedException(int statusCode, string detail)
    : Exception($"The payment gateway refused the request ({statusCode}): {detail}")
{
    public int StatusCode { get; } = statusCode;
}
