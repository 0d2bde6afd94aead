using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>Issue 5, items 4 and 6, and the gateway's other duties: rate limits, bad requests, CORS, trace context.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class GatewayTests
{
    /// <summary>The gateway's default <c>RequestLimits:MaxBodyBytes</c>; the AppHost does not change it.</summary>
    private const int MaxBodyBytes = 1024 * 1024;

    private readonly ShopAppFixture _shop;
    private readonly ShopIdentityClient _identity;

    public GatewayTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task Exceeding_a_users_rate_limit_gets_429_with_Retry_After_and_requests_succeed_again_after_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var permits = int.Parse(_identity.Parameter("gateway-rate-limit"), CultureInfo.InvariantCulture);
        var window = int.Parse(_identity.Parameter("gateway-rate-limit-window-seconds"), CultureInfo.InvariantCulture);
        var limited = await _identity.SignInAsync(await _identity.RegisterAsync("limited", ct), ct);
        var other = await _identity.SignInAsync(await _identity.RegisterAsync("unlimited", ct), ct);
        using var gateway = _identity.CreateGatewayClient(limited.AccessToken);
        Task<HttpResponseMessage> ReadProfileAsync() => gateway.GetAsync("/api/identity/users/me", ct);

        var retryAfter = await ExhaustAsync(ReadProfileAsync, permits, window, ct);

        // Per user: someone else is not held back.
        using var otherGateway = _identity.CreateGatewayClient(other.AccessToken);
        using (var unaffected = await otherGateway.GetAsync("/api/identity/users/me", ct))
        {
            Assert.Equal(HttpStatusCode.OK, unaffected.StatusCode);
        }

        await AssertAdmittedAgainAsync(ReadProfileAsync, retryAfter, ct);
    }

    /// <summary>
    /// Anonymous callers are limited per client address. The test calls from loopback, a proxy the gateway trusts (as
    /// it trusts the storefront's backend), so the address it names in <c>X-Forwarded-For</c> is the caller's: one
    /// from a documentation range of its own, so that no other test shares the partition.
    /// </summary>
    [Fact]
    public async Task Exceeding_the_anonymous_rate_limit_of_one_address_gets_429_and_holds_back_no_other_address_or_user()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var permits = int.Parse(_identity.Parameter("gateway-rate-limit-anonymous"), CultureInfo.InvariantCulture);
        var window = int.Parse(_identity.Parameter("gateway-rate-limit-window-seconds"), CultureInfo.InvariantCulture);
        var address = $"198.51.100.{Random.Shared.Next(1, 255)}";
        using var gateway = _identity.CreateGatewayClient();

        async Task<HttpResponseMessage> ReadCatalogAsync(string from, string? accessToken = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/products/items?pageSize=1");
            request.Headers.Add("X-Forwarded-For", from);
            if (accessToken is not null)
            {
                request.Headers.Authorization = new("Bearer", accessToken);
            }

            return await gateway.SendAsync(request, ct);
        }

        var retryAfter = await ExhaustAsync(() => ReadCatalogAsync(address), permits, window, ct);

        // Another address, and a signed-in user calling through the same one, have partitions of their own.
        using (var otherAddress = await ReadCatalogAsync("198.51.100.0"))
        {
            Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
        }

        var user = await _identity.SignInAsync(await _identity.RegisterAsync("anonymous-neighbour", ct), ct);
        using (var signedIn = await ReadCatalogAsync(address, user.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        await AssertAdmittedAgainAsync(() => ReadCatalogAsync(address), retryAfter, ct);
    }

    [Fact]
    public async Task Oversized_bodies_malformed_json_and_unknown_routes_get_4xx_problems_never_5xx()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        using var gateway = _identity.CreateGatewayClient();

        // A client announcing a large body waits for "100 Continue", as HTTP/1.1 asks; the gateway refuses at once.
        using var announcedRequest = new HttpRequestMessage(HttpMethod.Post, "/api/identity/users")
        {
            Content = new StringContent($$"""{"name":"{{new string('x', 2 * MaxBodyBytes)}}"}""", Encoding.UTF8, "application/json"),
        };
        announcedRequest.Headers.ExpectContinue = true;
        using (var announced = await gateway.SendAsync(announcedRequest, ct))
        {
            await ProblemAssert.IsProblemAsync(announced, HttpStatusCode.RequestEntityTooLarge, ct);
        }

        // A body of unknown length is caught while it streams. (Only a little over the limit: a server that stops
        // reading and closes a connection with much unread data resets it, and the client may lose the answer.)
        var streamed = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"name":"{{new string('x', MaxBodyBytes + 16 * 1024)}}"}""")));
        streamed.Headers.ContentType = new("application/json");
        using var chunkedRequest = new HttpRequestMessage(HttpMethod.Post, "/api/identity/users") { Content = streamed };
        chunkedRequest.Headers.TransferEncodingChunked = true;
        using (var chunked = await gateway.SendAsync(chunkedRequest, ct))
        {
            await ProblemAssert.IsProblemAsync(chunked, HttpStatusCode.RequestEntityTooLarge, ct);
        }

        using (var malformed = await gateway.PostAsync("/api/identity/users", new StringContent("""{"email": "a@example.com", "password": """, Encoding.UTF8, "application/json"), ct))
        {
            await ProblemAssert.IsProblemAsync(malformed, HttpStatusCode.BadRequest, ct);
        }

        using (var wrongType = await gateway.PostAsync("/api/identity/users", new StringContent("""{"email": 42}""", Encoding.UTF8, "application/json"), ct))
        {
            var problem = await ProblemAssert.IsProblemAsync(wrongType, HttpStatusCode.BadRequest, ct);
            Assert.Contains("email", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Unknown to the gateway, or (the first) to the service behind a known prefix: a 404 problem either way.
        foreach (var path in new[] { "/api/products/no-such-thing", "/api/nothing-here", "/api/identityx/users", "/connectx/token", "/" })
        {
            using var unknown = await gateway.GetAsync(path, ct);
            await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.NotFound, ct);
        }
    }

    [Fact]
    public async Task CORS_lets_the_storefront_origin_in_and_no_other()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        using var gateway = _identity.CreateGatewayClient();
        var storefront = _identity.Web.GetLeftPart(UriPartial.Authority);

        async Task<HttpResponseMessage> PreflightAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/identity/users/me");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "PUT");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return await gateway.SendAsync(request, ct);
        }

        using (var allowed = await PreflightAsync(storefront))
        {
            Assert.True(allowed.IsSuccessStatusCode, $"Preflight answered {(int)allowed.StatusCode}.");
            Assert.Equal(storefront, Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Origin")));
        }

        using (var refused = await PreflightAsync("http://evil.example"))
        {
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
        }

        using var read = new HttpRequestMessage(HttpMethod.Get, "/api/products/items?pageSize=1");
        read.Headers.Add("Origin", "http://evil.example");
        using var response = await gateway.SendAsync(read, ct);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task W3C_trace_context_passes_through_the_gateway_to_the_service()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        using var gateway = _identity.CreateGatewayClient();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/products/items?pageSize=0");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        // The products service's own validation problem names the trace it ran in.
        using var response = await gateway.SendAsync(request, ct);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ct);
        Assert.True(problem.TryGetProperty("errors", out _), "The problem must come from products' validation.");
        Assert.Contains(traceId, problem.GetProperty("traceId").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Sends until the limiter refuses, up to three windows' worth (a window may turn over during the burst): at least
    /// one window's permits and at most two get through, then a 429 problem with a <c>Retry-After</c> within the
    /// window. Returns how long it says to wait.
    /// </summary>
    private static async Task<TimeSpan> ExhaustAsync(Func<Task<HttpResponseMessage>> send, int permits, int windowSeconds, CancellationToken cancellationToken)
    {
        HttpResponseMessage? rejected = null;
        var accepted = 0;
        for (var i = 0; i < permits * 3 && rejected is null; i++)
        {
            var response = await send();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rejected = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                accepted++;
                response.Dispose();
            }
        }

        Assert.NotNull(rejected);
        Assert.InRange(accepted, permits, 2 * permits);
        using (rejected)
        {
            await ProblemAssert.IsProblemAsync(rejected, HttpStatusCode.TooManyRequests, cancellationToken);
            var retryAfter = rejected.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("429 without Retry-After.");
            Assert.InRange(retryAfter.TotalSeconds, 1, windowSeconds);
            return retryAfter;
        }
    }

    /// <summary>After <paramref name="retryAfter"/> (and at most two seconds more), the caller gets through again.</summary>
    private static async Task AssertAdmittedAgainAsync(Func<Task<HttpResponseMessage>> send, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        await Task.Delay(retryAfter, cancellationToken);
        HttpStatusCode status;
        do
        {
            using var again = await send();
            status = again.StatusCode;
        }
        while (status == HttpStatusCode.TooManyRequests && deadline.Elapsed < retryAfter + TimeSpan.FromSeconds(2) && await Pause(cancellationToken));

        Assert.Equal(HttpStatusCode.OK, status);
    }

    private static async Task<bool> Pause(CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        return true;
    }
}
