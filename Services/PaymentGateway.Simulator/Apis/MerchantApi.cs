using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PaymentGateway.Simulator.Ledger;

namespace PaymentGateway.Simulator.Apis;

public sealed record ChargeRequest(decimal Amount, string? Currency, string? Reference);

public sealed record RefundRequest(string? ChargeId, decimal Amount);

public sealed record ChargeResponse(string Id, string Status, decimal Amount, string Currency, string Reference, string? DeclineCode, DateTimeOffset Created);

public sealed record RefundResponse(string Id, string ChargeId, string Status, decimal Amount, DateTimeOffset Created);

/// <summary>
/// The merchant API, shaped like a real card gateway's: <c>POST /v1/charges</c> and <c>POST /v1/refunds</c> with a
/// secret key (<c>Authorization: Bearer</c>) and a required <c>Idempotency-Key</c>. Every call first waits the
/// configured latency and may fail with 503 (failure rate) before anything is done; a new charge may be declined
/// (decline rate). A key is settled once: the same key again returns the first answer (<c>Idempotent-Replayed: true</c>)
/// and never charges twice; with different parameters it is refused with 422.
/// </summary>
public static class MerchantApi
{
    public static IEndpointRouteBuilder MapMerchantApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var api = app.MapGroup("v1").WithTags("Merchant").AddEndpointFilter(RequireApiKey);

        api.MapPost("/charges", CreateCharge).WithName("CreateCharge").WithSummary("Charge the buyer's card");
        api.MapPost("/refunds", CreateRefund).WithName("CreateRefund").WithSummary("Give back (part of) a succeeded charge");
        api.MapGet("/charges/{id}", GetCharge).WithName("GetCharge").WithSummary("A charge by id");
        api.MapGet("/charges/by-key/{idempotencyKey}", GetChargeByKey).WithName("GetChargeByKey")
            .WithSummary("The charge made under an Idempotency-Key: 404 if none was made and none is under way, 409 while one is");

        return app;
    }

    private static async Task<IResult> CreateCharge(
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ChargeRequest request,
        HttpContext context,
        PaymentLedger ledger,
        SimulatorBehavior behavior,
        TimeProvider timeProvider,
        IHostApplicationLifetime lifetime)
    {
        // From arrival to answer, a lookup of the key says the charge is in progress: it may still be made.
        using var arrival = string.IsNullOrWhiteSpace(idempotencyKey) ? null : ledger.Arrive(idempotencyKey);
        if (await SimulateAsync(ledger, behavior.Current, timeProvider, lifetime.ApplicationStopping) is { } failure)
        {
            return failure;
        }

        if (ValidateKey(idempotencyKey) is { } badKey)
        {
            return badKey;
        }

        if (request.Amount <= 0 || decimal.Round(request.Amount, 2) != request.Amount || request.Currency is not { Length: 3 } currency
            || string.IsNullOrWhiteSpace(request.Reference))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid charge.",
                detail: "amount must be positive with at most two decimals, currency a three-letter code and reference non-empty.");
        }

        var fingerprint = Fingerprint("charge", request.Amount, currency, request.Reference);
        var (response, replayed) = await ledger.SettleOnceAsync(idempotencyKey!, () =>
        {
            var declined = Random.Shared.NextDouble() < behavior.Current.DeclineRate;
            var entry = ledger.RecordCharge(new LedgerEntry(
                "ch_" + Guid.NewGuid().ToString("N"), "charge", declined ? "declined" : "succeeded", request.Amount, currency.ToUpperInvariant(),
                request.Reference, null, declined ? "card_declined" : null, idempotencyKey!, timeProvider.GetUtcNow()));
            return Task.FromResult(new IdempotentResponse(fingerprint, StatusCodes.Status201Created,
                new ChargeResponse(entry.Id, entry.Status, entry.Amount, entry.Currency, entry.Reference, entry.DeclineCode, entry.Created)));
        });
        return Answer(context, response, replayed, fingerprint);
    }

    private static async Task<IResult> CreateRefund(
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        RefundRequest request,
        HttpContext context,
        PaymentLedger ledger,
        SimulatorBehavior behavior,
        TimeProvider timeProvider,
        IHostApplicationLifetime lifetime)
    {
        if (await SimulateAsync(ledger, behavior.Current, timeProvider, lifetime.ApplicationStopping) is { } failure)
        {
            return failure;
        }

        if (ValidateKey(idempotencyKey) is { } badKey)
        {
            return badKey;
        }

        if (request.Amount <= 0 || string.IsNullOrWhiteSpace(request.ChargeId))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid refund.", detail: "chargeId is required and amount must be positive.");
        }

        var fingerprint = Fingerprint("refund", request.Amount, request.ChargeId);
        var (response, replayed) = await ledger.SettleOnceAsync(idempotencyKey!, () =>
        {
            var charge = ledger.Find(request.ChargeId);
            if (charge is not { Type: "charge", Status: "succeeded" })
            {
                return Task.FromResult(new IdempotentResponse(fingerprint, StatusCodes.Status404NotFound,
                    Problem(StatusCodes.Status404NotFound, "No such charge.", $"There is no succeeded charge {request.ChargeId}.")));
            }

            var entry = new LedgerEntry("re_" + Guid.NewGuid().ToString("N"), "refund", "succeeded", request.Amount, charge.Currency,
                charge.Reference, charge.Id, null, idempotencyKey!, timeProvider.GetUtcNow());
            return Task.FromResult(ledger.TryRecordRefund(entry, charge.Amount)
                ? new IdempotentResponse(fingerprint, StatusCodes.Status201Created, new RefundResponse(entry.Id, charge.Id, entry.Status, entry.Amount, entry.Created))
                : new IdempotentResponse(fingerprint, StatusCodes.Status422UnprocessableEntity,
                    Problem(StatusCodes.Status422UnprocessableEntity, "Refund exceeds the charge.", $"Charge {charge.Id} has less than {request.Amount} left to refund.")));
        });
        return Answer(context, response, replayed, fingerprint);
    }

    private static IResult GetCharge(string id, PaymentLedger ledger) =>
        ledger.Find(id) is { Type: "charge" } charge
            ? TypedResults.Ok(new ChargeResponse(charge.Id, charge.Status, charge.Amount, charge.Currency, charge.Reference, charge.DeclineCode, charge.Created))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such charge.");

    /// <summary>
    /// What became of a charge request whose answer the merchant lost, without charging: the charge made under the
    /// key (200), none and none under way (404: sending it again would be the first charge), or a request with the key
    /// still being processed (409: ask again). Like every call it waits the latency and may fail with 503.
    /// </summary>
    private static async Task<IResult> GetChargeByKey(
        string idempotencyKey,
        PaymentLedger ledger,
        SimulatorBehavior behavior,
        TimeProvider timeProvider,
        IHostApplicationLifetime lifetime)
    {
        if (await SimulateAsync(ledger, behavior.Current, timeProvider, lifetime.ApplicationStopping) is { } failure)
        {
            return failure;
        }

        return ledger.LookUpCharge(idempotencyKey) switch
        {
            (ChargeLookup.Found, { } charge) => TypedResults.Ok(new ChargeResponse(charge.Id, charge.Status, charge.Amount, charge.Currency, charge.Reference, charge.DeclineCode, charge.Created)),
            (ChargeLookup.InProgress, _) => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Charge in progress.",
                detail: "A request with this Idempotency-Key is being processed; ask again."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such charge.", detail: "No charge was made under this Idempotency-Key."),
        };
    }

    /// <summary>
    /// The configured latency, then possibly a simulated outage (503) before anything is done. A call that has
    /// arrived is carried through even if its caller goes away meanwhile (killed, or timed out): a real gateway cannot
    /// tell, so a charge can be made that the caller never hears of, and only asking again under the same key finds
    /// it. Only the simulator's own shutdown cuts the wait short.
    /// </summary>
    private static async Task<IResult?> SimulateAsync(PaymentLedger ledger, Behavior behavior, TimeProvider timeProvider, CancellationToken stopping)
    {
        ledger.CountRequest();
        if (behavior.LatencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(behavior.LatencyMs), timeProvider, stopping);
        }

        if (Random.Shared.NextDouble() < behavior.FailureRate)
        {
            ledger.CountSimulatedFailure();
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable.",
                detail: "Simulated outage: nothing was done. Retry with the same Idempotency-Key.");
        }

        return null;
    }

    private static IResult? ValidateKey(string? idempotencyKey) =>
        string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > 255
            ? TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Idempotency-Key required.",
                detail: "Every charge and refund needs an Idempotency-Key header of at most 255 characters.")
            : null;

    private static IResult Answer(HttpContext context, IdempotentResponse response, bool replayed, string fingerprint)
    {
        if (response.Fingerprint != fingerprint)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused.",
                detail: "This Idempotency-Key was used with different parameters.");
        }

        if (replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return TypedResults.Json(response.Body, statusCode: response.StatusCode,
            contentType: response.Body is ProblemDetails ? "application/problem+json" : "application/json");
    }

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    private static string Fingerprint(params object[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', parts.Select(p => Convert.ToString(p, System.Globalization.CultureInfo.InvariantCulture))))));

    private static async ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var expected = http.RequestServices.GetRequiredService<IOptions<SimulatorOptions>>().Value.ApiKey;
        var header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && KeysMatch(header["Bearer ".Length..], expected)
            ? await next(context)
            : TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid API key.");
    }

    public static bool KeysMatch(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}
