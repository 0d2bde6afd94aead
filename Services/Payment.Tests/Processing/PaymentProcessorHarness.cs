using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Payment.Api.Extensions;
using Payment.Api.Gateway;
using Payment.Api.Infrastructure;
using Payment.Api.Model;
using Payment.Api.Processing;
using Payment.Api.Telemetry;
using PaymentGateway.Simulator.Ledger;
using Shop.EventBus;

namespace Payment.Tests.Processing;

/// <summary>
/// Payment's processor as the service wires it, on a database of its own, against the payment gateway simulator run in
/// memory (no sockets). The event bus writes its outbox but nothing relays or consumes it: tests read the outbox.
/// </summary>
public sealed class PaymentProcessorHarness : IAsyncDisposable
{
    private const string ApiKey = "test-api-key";

    private PaymentProcessorHarness(WebApplicationFactory<PaymentLedger> simulator, IHost host)
    {
        Simulator = simulator;
        Host = host;
    }

    public WebApplicationFactory<PaymentLedger> Simulator { get; }

    public IHost Host { get; }

    public PaymentLedger Ledger => Simulator.Services.GetRequiredService<PaymentLedger>();

    /// <param name="latencyMs">The simulator's latency for every call.</param>
    /// <param name="settings">Payment's own settings over the harness's (quick polling and retries).</param>
    public static async Task<PaymentProcessorHarness> StartAsync(string connectionString, int latencyMs, IDictionary<string, string?>? settings = null)
    {
        var simulator = new WebApplicationFactory<PaymentLedger>().WithWebHostBuilder(web => web
            .UseSetting("Simulator:ApiKey", ApiKey)
            .UseSetting("Simulator:AdminKey", "test-admin-key")
            .UseSetting("Simulator:LatencyMs", latencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _ = simulator.Server;

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:paymentdb"] = connectionString,
            // Never reached: the relay and the consumer are not run.
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            ["PaymentGateway:BaseAddress"] = "http://payment-gateway.test",
            ["PaymentGateway:ApiKey"] = ApiKey,
            ["Payment:PollInterval"] = "00:00:00.100",
            ["Payment:RetryDelay"] = "00:00:00.200",
            ["Payment:MaxRetryDelay"] = "00:00:00.500",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.AddNpgsqlDbContext<PaymentContext>("paymentdb");
        builder.AddEventBus<PaymentContext>("kafka", options => options.GroupId = "payment");
        foreach (var busService in builder.Services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Assembly == typeof(OutboxMessage).Assembly).ToList())
        {
            builder.Services.Remove(busService);
        }

        builder.AddPaymentProcessing();
        builder.Services.AddHttpClient<PaymentGatewayClient>().ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());

        var host = builder.Build();
        await host.StartAsync();
        return new PaymentProcessorHarness(simulator, host);
    }

    /// <summary>A pending charge of <paramref name="amount"/> USD, as the OrderAwaitingPayment handler records it, changed by <paramref name="change"/>.</summary>
    public async Task<PaymentRecord> AddChargeAsync(decimal amount, Action<PaymentRecord>? change = null)
    {
        var now = DateTimeOffset.UtcNow;
        var orderId = Guid.NewGuid();
        var charge = new PaymentRecord
        {
            Id = Guid.CreateVersion7(),
            OrderId = orderId,
            BuyerId = "buyer",
            Kind = PaymentKind.Charge,
            Status = PaymentStatus.Pending,
            Amount = amount,
            Currency = "USD",
            IdempotencyKey = PaymentRecord.ChargeKey(orderId),
            NextAttemptAt = now,
            Deadline = now + TimeSpan.FromMinutes(10),
            CreatedAt = now,
        };
        change?.Invoke(charge);
        await using var scope = Host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PaymentContext>();
        db.Payments.Add(charge);
        PaymentWorkSignal.Mark(db);
        await db.SaveChangesAsync();
        return charge;
    }

    /// <summary>Makes the payment due now, and wakes the processor.</summary>
    public async Task MakeDueAsync(Guid paymentId)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PaymentContext>();
        var now = DateTimeOffset.UtcNow;
        await db.Payments.Where(p => p.Id == paymentId).ExecuteUpdateAsync(p => p.SetProperty(x => x.NextAttemptAt, now));
        Host.Services.GetRequiredService<PaymentWorkSignal>().Pulse();
    }

    /// <summary>The order's payments, oldest first, once <paramref name="condition"/> holds for them (within <paramref name="timeout"/>).</summary>
    public async Task<List<PaymentRecord>> PaymentsWhenAsync(Guid orderId, Func<List<PaymentRecord>, bool> condition, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        while (true)
        {
            await using (var scope = Host.Services.CreateAsyncScope())
            {
                var payments = await scope.ServiceProvider.GetRequiredService<PaymentContext>().Payments.AsNoTracking()
                    .Where(p => p.OrderId == orderId).OrderBy(p => p.CreatedAt).ThenBy(p => p.Kind).ToListAsync(CancellationToken.None);
                if (condition(payments))
                {
                    return payments;
                }

                if (cancellation.IsCancellationRequested)
                {
                    throw new TimeoutException($"Payments of order {orderId} did not get there within {timeout}: {string.Join("; ", payments.Select(p => $"{p.Kind} {p.Status} attempts {p.Attempts} {p.LastError}"))}");
                }
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    /// <summary>The types of the events the processor wrote to the outbox for the order, in order.</summary>
    public async Task<List<string>> EventsAsync(Guid orderId)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        var messages = await scope.ServiceProvider.GetRequiredService<PaymentContext>().Set<OutboxMessage>().AsNoTracking().ToListAsync();
        return [.. messages.Where(m => m.PartitionKey == orderId.ToString()).OrderBy(m => m.Sequence).Select(m => m.EventType)];
    }

    /// <summary>Charges the card at the gateway under <paramref name="charge"/>'s key, as an earlier attempt whose answer was lost would have.</summary>
    public async Task ChargeAtTheGatewayAsync(PaymentRecord charge)
    {
        using var http = Simulator.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/charges")
        {
            Content = JsonContent.Create(new { amount = charge.Amount, currency = charge.Currency, reference = charge.OrderId.ToString() }),
        };
        request.Headers.Add("Authorization", $"Bearer {ApiKey}");
        request.Headers.Add("Idempotency-Key", charge.IdempotencyKey);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        await Simulator.DisposeAsync();
    }
}
