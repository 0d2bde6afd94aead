using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Polly.CircuitBreaker;
using Payment.Api.Gateway;
using Payment.Api.Telemetry;

namespace Payment.Tests;

/// <summary>The gateway client's own resilience pipeline, against a fake gateway: retries, circuit breaker, bulkhead, timeouts.</summary>
public sealed class PaymentGatewayClientTests : IDisposable
{
    private readonly FakeGateway _gateway = new();
    private readonly IHost _host;

    public PaymentGatewayClientTests()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PaymentGateway:BaseAddress"] = "http://gateway.test",
            ["PaymentGateway:ApiKey"] = "secret-key",
            ["PaymentGateway:MaxRetries"] = "2",
            ["PaymentGateway:RetryDelay"] = "00:00:00.001",
            ["PaymentGateway:AttemptTimeout"] = "00:00:00.500",
            // Far above the three attempts' 1.5 s: a CI run once lost the third attempt to a 2 s total on a busy host.
            ["PaymentGateway:TotalTimeout"] = "00:00:10",
            ["PaymentGateway:MinimumThroughput"] = "4",
            ["PaymentGateway:SamplingDuration"] = "00:00:30",
            ["PaymentGateway:BreakDuration"] = "00:00:30",
            ["PaymentGateway:MaxConcurrentCalls"] = "1",
            ["PaymentGateway:QueueLimit"] = "0",
        });
        builder.AddPaymentGatewayClient();
        builder.Services.AddSingleton<PaymentTelemetry>();
        builder.Services.AddHttpClient<PaymentGatewayClient>().ConfigurePrimaryHttpMessageHandler(() => _gateway);
        _host = builder.Build();
    }

    private PaymentGatewayClient Client => _host.Services.GetRequiredService<PaymentGatewayClient>();

    [Fact]
    public async Task A_charge_carries_the_api_key_and_its_idempotency_key_and_reads_the_outcome()
    {
        _gateway.Answer(_ => Charged("succeeded"));

        var charge = await Client.ChargeAsync("order-1-charge", 12.50m, "USD", "order-1", CancellationToken.None);

        Assert.True(charge.Succeeded);
        var request = Assert.Single(_gateway.Requests);
        Assert.Equal("http://gateway.test/v1/charges", request.Url);
        Assert.Equal("Bearer secret-key", request.Authorization);
        Assert.Equal("order-1-charge", request.IdempotencyKey);
        Assert.Equal(12.50m, JsonDocument.Parse(request.Body).RootElement.GetProperty("amount").GetDecimal());
    }

    [Fact]
    public async Task Transient_failures_are_retried_under_the_same_key()
    {
        var calls = 0;
        _gateway.Answer(_ => ++calls < 3 ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) : Charged("succeeded"));

        var charge = await Client.ChargeAsync("order-2-charge", 5m, "USD", "order-2", CancellationToken.None);

        Assert.True(charge.Succeeded);
        Assert.Equal(3, _gateway.Requests.Count);
        Assert.All(_gateway.Requests, r => Assert.Equal("order-2-charge", r.IdempotencyKey));
    }

    [Fact]
    public async Task A_gateway_failing_every_call_opens_the_circuit_and_later_calls_do_not_reach_it()
    {
        _gateway.Answer(_ => new HttpResponseMessage(HttpStatusCode.InternalServerError));

        var failure = await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("k1", 1m, "USD", "o1", CancellationToken.None));
        Assert.True(failure.ReachedGateway);
        await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("k2", 1m, "USD", "o2", CancellationToken.None));
        var callsWhenOpen = _gateway.Requests.Count;
        var refused = await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("k3", 1m, "USD", "o3", CancellationToken.None));

        Assert.False(refused.ReachedGateway);
        Assert.IsType<BrokenCircuitException>(refused.InnerException);
        Assert.Equal(callsWhenOpen, _gateway.Requests.Count);
        Assert.InRange(callsWhenOpen, 4, 6);
        Assert.Equal(CircuitState.Open, PaymentTelemetry.StateOf(_host.Services.GetRequiredService<CircuitBreakerStateProvider>()));
    }

    [Fact]
    public async Task A_call_whose_first_try_timed_out_may_have_reached_the_gateway_even_when_the_circuit_refuses_the_retry()
    {
        // Three failures open nothing (at least four calls are needed); the fourth, a try that times out, opens the
        // circuit, so the retry of that same call is refused by it.
        _gateway.Answer(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("earlier", 1m, "USD", "o1", CancellationToken.None));
        _gateway.Answer(async request =>
        {
            await Task.Delay(Timeout.Infinite, request.Cancellation);
            return Charged("succeeded");
        });

        var failure = await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("timed-out", 1m, "USD", "o2", CancellationToken.None));

        Assert.IsType<BrokenCircuitException>(failure.InnerException);
        Assert.Single(_gateway.Requests, r => r.IdempotencyKey == "timed-out");
        Assert.True(failure.ReachedGateway, "The try that timed out may have charged the card.");
    }

    [Fact]
    public async Task A_call_the_gateway_answered_only_with_503_nothing_done_did_not_reach_it()
    {
        _gateway.Answer(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));

        var failure = await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("k", 1m, "USD", "o", CancellationToken.None));

        Assert.Equal(3, _gateway.Requests.Count);
        Assert.False(failure.ReachedGateway);
    }

    [Fact]
    public async Task The_bulkhead_refuses_a_call_beyond_the_concurrency_limit_without_sending_it()
    {
        var release = new TaskCompletionSource();
        _gateway.Answer(async _ =>
        {
            await release.Task;
            return Charged("succeeded");
        });

        var first = Client.ChargeAsync("slow", 1m, "USD", "o1", CancellationToken.None);
        await _gateway.FirstRequest;
        var second = await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("second", 1m, "USD", "o2", CancellationToken.None));
        release.SetResult();

        Assert.False(second.ReachedGateway);
        Assert.True((await first).Succeeded);
        Assert.Single(_gateway.Requests);
    }

    [Fact]
    public async Task A_gateway_that_does_not_answer_in_time_is_a_timeout_that_may_have_reached_it()
    {
        _gateway.Answer(async request =>
        {
            await Task.Delay(Timeout.Infinite, request.Cancellation);
            return Charged("succeeded");
        });

        var failure = await Assert.ThrowsAsync<PaymentGatewayUnavailableException>(() => Client.ChargeAsync("hangs", 1m, "USD", "o1", CancellationToken.None));

        Assert.True(failure.ReachedGateway);
        Assert.Equal(3, _gateway.Requests.Count);
    }

    [Fact]
    public async Task A_request_the_gateway_refuses_is_not_retried()
    {
        _gateway.Answer(_ => new HttpResponseMessage(HttpStatusCode.UnprocessableEntity) { Content = JsonContent.Create(new { title = "Idempotency-Key reused." }) });

        var refused = await Assert.ThrowsAsync<PaymentGatewayRejectedException>(() => Client.ChargeAsync("k", 1m, "USD", "o", CancellationToken.None));

        Assert.Equal(422, refused.StatusCode);
        Assert.Single(_gateway.Requests);
    }

    public void Dispose() => _host.Dispose();

    private static HttpResponseMessage Charged(string status) => new(HttpStatusCode.Created)
    {
        Content = JsonContent.Create(new { id = "ch_1", status, amount = 1m, currency = "USD", declineCode = (string?)null }),
    };

    private sealed record SeenRequest(string Url, string? Authorization, string? IdempotencyKey, string Body, CancellationToken Cancellation);

    private sealed class FakeGateway : HttpMessageHandler
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Func<SeenRequest, Task<HttpResponseMessage>> _answer = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError));

        public ConcurrentQueue<SeenRequest> Requests { get; } = new();

        public Task FirstRequest => _first.Task;

        public void Answer(Func<SeenRequest, HttpResponseMessage> answer) => _answer = request => Task.FromResult(answer(request));

        public void Answer(Func<SeenRequest, Task<HttpResponseMessage>> answer) => _answer = answer;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var seen = new SeenRequest(
                request.RequestUri!.ToString(),
                request.Headers.Authorization?.ToString(),
                request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null,
                request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken),
                cancellationToken);
            Requests.Enqueue(seen);
            _first.TrySetResult();
            return await _answer(seen);
        }
    }
}
