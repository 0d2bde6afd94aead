using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ordering.Api.Apis;
using Ordering.Api.Extensions;
using Ordering.Api.Infrastructure;
using Ordering.Api.Services;

namespace Ordering.Tests;

/// <summary>
/// The cap on order status streams per buyer (<see cref="OrderStreamSlots"/>), and a stream's headers sent as it
/// starts, through ordering's own endpoints on a real Kestrel server. The streams of all orders without <c>Last-Event-ID</c> read no history, so no database is
/// needed: the context is configured but never opened.
/// </summary>
public sealed class OrderStreamLimitTests : IAsyncLifetime
{
    private const int Limit = 2;
    private const string BuyerHeader = "X-Test-Buyer";

    private readonly List<HttpResponseMessage> _streams = [];
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.AddAuthentication(BuyerHeaderHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, BuyerHeaderHandler>(BuyerHeaderHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder().SetDefaultPolicy(new AuthorizationPolicyBuilder(BuyerHeaderHandler.SchemeName).RequireAuthenticatedUser().Build());
        builder.Services.AddDbContext<OrderingContext>(db => db.UseNpgsql("Host=127.0.0.1;Port=1"));
        builder.Services.Configure<OrderingOptions>(options => options.MaxStreamsPerBuyer = Limit);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProductsClient();
        builder.Services.AddScoped<OrderPlacement>();
        builder.Services.AddScoped<OrderQueries>();
        builder.Services.AddSingleton<OrderStatusFeed>();
        builder.Services.AddSingleton<OrderStreamSlots>();

        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapOrdersApi();
        await _app.StartAsync();

        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            stream.Dispose();
        }

        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_stream_beyond_the_buyers_limit_is_refused_with_a_429_problem_saying_so()
    {
        for (var i = 0; i < Limit; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await OpenAsync("ada")).StatusCode);
        }

        var refused = await OpenAsync("ada");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(OrderStatusStream.TooManyStreamsType, problem.GetProperty("type").GetString());
        Assert.Equal("Too many order status streams.", problem.GetProperty("title").GetString());
        Assert.Contains($"{Limit} order status streams open", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await OpenAsync("grace")).StatusCode);
    }

    [Fact]
    public async Task A_stream_answers_200_with_its_headers_at_once_not_with_its_first_event()
    {
        // Without Last-Event-ID this stream has nothing to send until a change or its first heartbeat (15 s).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ordering/orders/events");
        request.Headers.Add(BuyerHeader, "ada");
        using var soon = new CancellationTokenSource(TimeSpan.FromSeconds(5));

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, soon.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
    }

    [Fact]
    public async Task A_client_that_goes_away_frees_its_slot()
    {
        for (var i = 0; i < Limit; i++)
        {
            await OpenAsync("ada");
        }

        _streams[0].Dispose();

        Assert.Equal(HttpStatusCode.OK, await OpenWhenFreeAsync("ada"));
    }

    [Fact]
    public async Task A_stream_that_ends_frees_its_slot()
    {
        for (var i = 0; i < Limit; i++)
        {
            await OpenAsync("ada");
        }

        // What the status listener does when it loses its connection: every stream ends, and its client reconnects. A
        // stream joins the feed just after its headers go out, so one may join after an interrupt: interrupt again
        // before each retry (a CI run saw the second reopen refused for 10 s).
        var feed = _app.Services.GetRequiredService<OrderStatusFeed>();
        feed.Interrupt();

        Assert.Equal(HttpStatusCode.OK, await OpenWhenFreeAsync("ada", feed.Interrupt));
        Assert.Equal(HttpStatusCode.OK, await OpenWhenFreeAsync("ada", feed.Interrupt));
    }

    /// <summary>Opens a stream of every order of <paramref name="buyer"/>, reading only its headers; kept open until the test ends.</summary>
    private async Task<HttpResponseMessage> OpenAsync(string buyer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ordering/orders/events");
        request.Headers.Add(BuyerHeader, buyer);
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        _streams.Add(response);
        return response;
    }

    /// <summary>A stream opened as soon as a slot is free: the server notices a stream's end a moment after it happens.</summary>
    private async Task<HttpStatusCode> OpenWhenFreeAsync(string buyer, Action? beforeRetry = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await OpenAsync(buyer);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || DateTime.UtcNow > deadline)
            {
                return response.StatusCode;
            }

            await Task.Delay(50);
            beforeRetry?.Invoke();
        }
    }

    /// <summary>Signs in whoever <see cref="BuyerHeader"/> names, as the token's <c>sub</c> would.</summary>
    private sealed class BuyerHeaderHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestBuyer";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers[BuyerHeader].ToString() is { Length: > 0 } buyer
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", buyer)], SchemeName)), SchemeName))
                : AuthenticateResult.NoResult());
    }
}
