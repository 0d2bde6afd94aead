using System.Net;
using System.Text.Json.Serialization;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Payment.Api.Gateway;

/// <summary>
/// The payment gateway's API (<c>POST /v1/charges</c>, <c>POST /v1/refunds</c>), called through the resilience
/// pipeline of <see cref="PaymentGatewayResilience"/>. Every request carries an <c>Idempotency-Key</c>: the gateway
/// settles a key once and answers a repeated one with the first answer, which is what makes retries safe.
/// </summary>
public sealed class PaymentGatewayClient(HttpClient http)
{
    public async Task<GatewayCharge> ChargeAsync(string idempotencyKey, decimal amount, string currency, string reference, CancellationToken cancellationToken) =>
        await SendAsync<GatewayCharge>("/v1/charges", idempotencyKey, new ChargeRequest(amount, currency, reference), cancellationToken);

    public async Task<GatewayRefund> RefundAsync(string idempotencyKey, string chargeId, decimal amount, CancellationToken cancellationToken) =>
        await SendAsync<GatewayRefund>("/v1/refunds", idempotencyKey, new RefundRequest(chargeId, amount), cancellationToken);

    private async Task<T> SendAsync<T>(string path, string idempotencyKey, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (BrokenCircuitException exception)
        {
            throw new PaymentGatewayUnavailableException("The circuit to the payment gateway is open: the call was not made.", exception, reachedGateway: false);
        }
        catch (RateLimiterRejectedException exception)
        {
            throw new PaymentGatewayUnavailableException("Too many calls to the payment gateway are under way (bulkhead full): the call was not made.", exception, reachedGateway: false);
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException
                                              or TaskCanceledException { InnerException: TimeoutException })
        {
            throw new PaymentGatewayUnavailableException($"The payment gateway did not answer: {exception.Message}", exception, reachedGateway: true);
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
                ? new PaymentGatewayUnavailableException($"The payment gateway answered {(int)response.StatusCode} after the retries: {Shorten(detail)}", null, reachedGateway: true)
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
    /// <summary>False when the call was refused on this side (open circuit, full bulkhead): the gateway never saw it.</summary>
    public bool ReachedGateway { get; } = reachedGateway;
}

/// <summary>The gateway refused the request itself (4xx): sending it again will not help.</summary>
public sealed class PaymentGatewayRejectedException(int statusCode, string detail)
    : Exception($"The payment gateway refused the request ({statusCode}): {detail}")
{
    public int StatusCode { get; } = statusCode;
}
