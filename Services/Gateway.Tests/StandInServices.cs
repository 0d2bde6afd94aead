using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests;

/// <summary>
/// One app standing in for every service behind the gateway: it records each request it gets (method, path, whether
/// it carried a token) and answers a forwarded request with 200 and its path. For the composed order it answers as the
/// services would: ordering's order (one line, product 7), payment's list of payments (or <see cref="PaymentStatus"/>
/// when that is not 200), products' catalog entries.
/// </summary>
internal sealed class StandInServices : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _requests = new();

    private StandInServices()
    {
        App = KestrelApps.CreateSlim(app =>
        {
            app.Use((context, next) =>
            {
                var token = context.Request.Headers.Authorization.Count > 0 ? "with token" : "without token";
                _requests.Enqueue($"{context.Request.Method} {context.Request.Path} {token}");
                return next(context);
            });
            app.MapGet("/api/ordering/orders/{id:guid}", async (Guid id, CancellationToken aborted) =>
            {
                await Task.Delay(OrderingDelay, aborted);
                return Results.Json(new { id, lines = new[] { new { productId = 7 } } });
            });
            app.MapGet("/api/payment/payments", async (CancellationToken aborted) =>
            {
                await Task.Delay(PaymentDelay, aborted);
                return PaymentStatus == StatusCodes.Status200OK
                    ? Results.Json(new[] { new { kind = "Charge", status = "Succeeded" } })
                    : Results.Problem(statusCode: PaymentStatus);
            });
            app.MapGet("/api/products/items/by", () => Results.Json(new[] { new { id = 7, name = "Mug" } }));
            app.Map("/{**path}", (HttpRequest request) => $"reached {request.Path}");
        });
    }

    public WebApplication App { get; }

    /// <summary>What payment answers for an order's payments.</summary>
    public int PaymentStatus { get; set; } = StatusCodes.Status200OK;

    /// <summary>How long ordering takes to answer an order.</summary>
    public TimeSpan OrderingDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How long payment takes to answer: a hung service is one that takes longer than anyone waits.</summary>
    public TimeSpan PaymentDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Every request so far, as "GET /api/ordering/orders with token".</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    public static async Task<StandInServices> StartAsync()
    {
        var services = new StandInServices();
        await services.App.StartAsync();
        return services;
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}

/// <summary>The shipped gateway, with real token validation, in front of <see cref="StandInServices"/>.</summary>
public abstract class GatewayBeforeStandInsTests : StartedAppTests
{
    internal StandInServices Services { get; private set; } = null!;

    protected override WebApplication CreateApp() => KestrelApps.CreateAuthorizingGateway(Services.App);

    public override async Task InitializeAsync()
    {
        Services = await StandInServices.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Services.DisposeAsync();
    }
}
