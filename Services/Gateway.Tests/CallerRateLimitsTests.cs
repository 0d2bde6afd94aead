using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Claims;
using Gateway.Caching;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests;

/// <summary>
/// The gateway's rate limits on a real Kestrel server: one window per caller (a user by the token's <c>sub</c>,
/// anonymous callers by address), 429 as a problem with <c>Retry-After</c>, health probes never limited. A stand-in
/// for the bearer authentication signs a request in as the user named in its <c>X-Test-User</c> header.
/// </summary>
public sealed class CallerRateLimitsTests : StartedAppTests
{
    private const int UserPermits = 2;
    private const int AnonymousPermits = 3;
    private const int WindowSeconds = 60;

    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);
    private readonly MeterListener _listener = new();
    private readonly List<string> _rejectedCallers = [];

    protected override WebApplication CreateApp() => KestrelApps.CreateSlim(
        app =>
        {
            app.Use((context, next) =>
            {
                if (context.Request.Headers["X-Test-User"] is [{ } user])
                {
                    var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", user)], "Test"));
                    // As BearerAuthentication signs a token's user in, with the subject read once; or a plain principal.
                    context.User = context.Request.Headers.ContainsKey("X-Test-Gateway-User") ? new SignedInUser(principal) : principal;
                }

                return next(context);
            });
            app.UseCallerRateLimits();
            app.MapGet("/items", () => "ok");
            app.MapGet("/health", () => "Healthy");
        },
        builder =>
        {
            builder.Configuration["RateLimiting:PermitLimit"] = $"{UserPermits}";
            builder.Configuration["RateLimiting:AnonymousPermitLimit"] = $"{AnonymousPermits}";
            builder.Configuration["RateLimiting:WindowSeconds"] = $"{WindowSeconds}";
            builder.Services.AddProblemDetails();
            builder.Services.AddSingleton<TimeProvider>(_time);
            builder.AddCallerRateLimits();
        });

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();

        var meterFactory = App.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "shop.gateway.rate_limit.rejections" && instrument.Meter.Name == GatewayCacheMetrics.MeterName
                && instrument.Meter.Scope == meterFactory)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (_rejectedCallers)
            {
                _rejectedCallers.Add((string)tags[0].Value!);
            }
        });
        _listener.Start();
    }

    public override async Task DisposeAsync()
    {
        _listener.Dispose();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task An_anonymous_caller_past_its_window_gets_429_as_a_problem_with_Retry_After()
    {
        for (var i = 0; i < AnonymousPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: null));
        }

        using var rejected = await GetAsync("/items", user: null);

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
        Assert.InRange(rejected.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, WindowSeconds);
        var problem = System.Text.Json.JsonDocument.Parse(await rejected.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("Try again in", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("https://tools.ietf.org/html/rfc6585#section-4", problem.GetProperty("type").GetString());
        Assert.Equal(["anonymous"], RejectedCallers());
    }

    [Fact]
    public async Task Retry_After_counts_down_to_the_moment_the_callers_window_reopens()
    {
        for (var i = 0; i < AnonymousPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: null));
        }

        Assert.Equal(WindowSeconds, await RetryAfterSecondsAsync());

        _time.Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(WindowSeconds - 25, await RetryAfterSecondsAsync());

        // Half a second left: rounded up, never 0.
        _time.Advance(TimeSpan.FromSeconds(WindowSeconds - 25 - 0.5));
        Assert.Equal(1, await RetryAfterSecondsAsync());

        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: null));
    }

    [Fact]
    public async Task Each_signed_in_user_has_a_window_of_their_own_apart_from_the_address()
    {
        for (var i = 0; i < AnonymousPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: null));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusOfAsync(user: null));

        // The same address, signed in: the user's own window, with the user's own limit.
        for (var i = 0; i < UserPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: "alice"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusOfAsync(user: "alice"));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: "bob"));
        Assert.Equal(["anonymous", "user"], RejectedCallers());
    }

    [Fact]
    public async Task A_user_signed_in_by_the_gateway_shares_the_window_of_their_subject()
    {
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: "alice"));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: "alice", gatewayUser: true));

        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusOfAsync(user: "alice", gatewayUser: true));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: "bob", gatewayUser: true));
        Assert.Equal(["user"], RejectedCallers());
    }

    [Fact]
    public async Task Health_probes_are_never_limited()
    {
        for (var i = 0; i < AnonymousPermits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(user: null));
        }

        for (var i = 0; i < 3 * AnonymousPermits; i++)
        {
            using var probe = await GetAsync("/health", user: null);
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusOfAsync(user: null));
    }

    private async Task<HttpStatusCode> StatusOfAsync(string? user, bool gatewayUser = false)
    {
        using var response = await GetAsync("/items", user, gatewayUser);
        return response.StatusCode;
    }

    private async Task<int> RetryAfterSecondsAsync()
    {
        using var rejected = await GetAsync("/items", user: null);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        var seconds = (int)rejected.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        var problem = System.Text.Json.JsonDocument.Parse(await rejected.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains($"Try again in {seconds} second", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        return seconds;
    }

    private Task<HttpResponseMessage> GetAsync(string path, string? user, bool gatewayUser = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null)
        {
            request.Headers.Add("X-Test-User", user);
        }

        if (gatewayUser)
        {
            request.Headers.Add("X-Test-Gateway-User", "true");
        }

        return Client.SendAsync(request);
    }

    private string[] RejectedCallers()
    {
        lock (_rejectedCallers)
        {
            return [.. _rejectedCallers];
        }
    }
}
