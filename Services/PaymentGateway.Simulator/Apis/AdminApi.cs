using Microsoft.Extensions.Options;
using PaymentGateway.Simulator.Ledger;

namespace PaymentGateway.Simulator.Apis;

/// <summary>Changes to the behaviour; null leaves a value as it is.</summary>
public sealed record BehaviorChange(int? LatencyMs, double? DeclineRate, double? FailureRate);

/// <summary>
/// The operator's (and tests') side, behind <c>X-Admin-Key</c>: switch the gateway's behaviour at run time (e.g.
/// <c>{"failureRate":1}</c> to fail every call, <c>DELETE</c> to go back to the configured one), read the ledger
/// (every charge and refund, by order reference) and the call statistics.
/// </summary>
public static class AdminApi
{
    public const string AdminKeyHeader = "X-Admin-Key";

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var admin = app.MapGroup("admin").WithTags("Admin").AddEndpointFilter(RequireAdminKey);

        admin.MapGet("/behavior", (SimulatorBehavior behavior) => TypedResults.Ok(behavior.Current))
            .WithName("GetBehavior").WithSummary("The current latency, decline rate and failure rate");
        admin.MapPut("/behavior", ChangeBehavior)
            .WithName("ChangeBehavior").WithSummary("Change latency, decline rate or failure rate until reset");
        admin.MapDelete("/behavior", (SimulatorBehavior behavior) => TypedResults.Ok(behavior.Reset()))
            .WithName("ResetBehavior").WithSummary("Back to the configured behaviour");
        admin.MapGet("/ledger", (PaymentLedger ledger, string? reference, string? type) => TypedResults.Ok(ledger.Query(reference, type)))
            .WithName("GetLedger").WithSummary("Charges and refunds made, oldest first; filter by reference (order id) or type (charge, refund)");
        admin.MapGet("/stats", (PaymentLedger ledger) => TypedResults.Ok(ledger.Statistics))
            .WithName("GetStatistics").WithSummary("Calls received, simulated failures, replays, lookups by key, charges, declines and refunds");

        return app;
    }

    private static IResult ChangeBehavior(BehaviorChange change, SimulatorBehavior behavior)
    {
        var current = behavior.Current;
        var next = new Behavior(change.LatencyMs ?? current.LatencyMs, change.DeclineRate ?? current.DeclineRate, change.FailureRate ?? current.FailureRate);
        if (!next.IsValid(out var problem))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid behaviour.", detail: problem);
        }

        behavior.Set(next);
        return TypedResults.Ok(next);
    }

    private static async ValueTask<object?> RequireAdminKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var expected = http.RequestServices.GetRequiredService<IOptions<SimulatorOptions>>().Value.AdminKey;
        return MerchantApi.KeysMatch(http.Request.Headers[AdminKeyHeader].ToString(), expected)
            ? await next(context)
            : TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid admin key.");
    }
}
