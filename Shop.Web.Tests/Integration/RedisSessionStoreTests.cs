using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Shop.Web.Authentication;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// Sign-in sessions in the tests' real Redis, and what a live page (a circuit, holding the request it was opened
/// with) sends to the gateway: the session's current token, or none once the session has ended.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSessionStoreTests(RedisFixture redis)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private readonly RedisSessionStore _store = new(
        redis.Redis, new EphemeralDataProtectionProvider(), TimeProvider.System, NullLogger<RedisSessionStore>.Instance);

    [Fact]
    public async Task A_session_is_kept_encrypted_until_its_end_found_by_its_key_and_gone_once_removed()
    {
        var ticket = Ticket("token-1", "refresh-secret-1", expiresIn: TimeSpan.FromMinutes(15));
        ticket.Properties.ExpiresUtc = Now.AddHours(2);

        var key = await _store.StoreAsync(ticket);

        var stored = (byte[])(await redis.Redis.GetDatabase().StringGetAsync(RedisSessionStore.KeyPrefix + key))!;
        Assert.DoesNotContain("refresh-secret-1", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        var ttl = await redis.Redis.GetDatabase().KeyTimeToLiveAsync(RedisSessionStore.KeyPrefix + key);
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(2));

        var found = await _store.RetrieveAsync(key);
        Assert.NotNull(found);
        Assert.Equal("user-1", found.Principal.FindFirstValue("sub"));
        Assert.Equal(key, found.Principal.FindFirstValue(RedisSessionStore.SessionKeyClaimType));
        Assert.Equal("refresh-secret-1", found.Properties.GetTokenValue("refresh_token"));

        await _store.RemoveAsync(key);
        Assert.Null(await _store.RetrieveAsync(key));
    }

    [Fact]
    public async Task A_session_another_storefront_encrypted_with_keys_this_one_does_not_have_is_no_session()
    {
        var other = new RedisSessionStore(redis.Redis, new EphemeralDataProtectionProvider(), TimeProvider.System, NullLogger<RedisSessionStore>.Instance);
        var key = await other.StoreAsync(Ticket("token-1", "refresh-1", TimeSpan.FromMinutes(15)));

        Assert.Null(await _store.RetrieveAsync(key));
    }

    [Fact]
    public async Task A_live_page_sends_the_token_its_session_was_refreshed_to_not_the_one_it_was_opened_with()
    {
        var opened = Ticket("token-when-opened", "refresh-1", expiresIn: TimeSpan.FromMinutes(5));
        var key = await _store.StoreAsync(opened);
        // Another tab's page request refreshed the session since.
        await _store.RenewAsync(key, Ticket("token-refreshed", "refresh-2", expiresIn: TimeSpan.FromMinutes(15), key));

        Assert.Equal("Bearer token-refreshed", await AuthorizationSentByLivePageAsync(opened));
    }

    [Fact]
    public async Task Once_another_tab_has_signed_out_a_live_page_sends_no_token()
    {
        var opened = Ticket("token-when-opened", "refresh-1", expiresIn: TimeSpan.FromMinutes(15));
        var key = await _store.StoreAsync(opened);
        Assert.Equal("Bearer token-when-opened", await AuthorizationSentByLivePageAsync(opened));

        await _store.RemoveAsync(key);

        Assert.Null(await AuthorizationSentByLivePageAsync(opened));
    }

    [Fact]
    public async Task A_live_page_whose_expiring_token_cannot_be_refreshed_ends_the_session_and_sends_no_token()
    {
        // Due for refresh, and nothing to refresh it with: the refresh is refused without asking the identity service.
        var opened = Ticket("token-when-opened", refreshToken: null, expiresIn: TimeSpan.FromSeconds(30));
        var key = await _store.StoreAsync(opened);

        Assert.Null(await AuthorizationSentByLivePageAsync(opened));
        Assert.False(await redis.Redis.GetDatabase().KeyExistsAsync(RedisSessionStore.KeyPrefix + key));
    }

    /// <summary>
    /// The Authorization header <see cref="AccessTokenHandler"/> puts on a call made from a circuit opened with
    /// <paramref name="opened"/>: the circuit's request authenticates as that ticket, whatever happened since.
    /// </summary>
    private async Task<string?> AuthorizationSentByLivePageAsync(AuthenticationTicket opened)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(new OpenedTicket(opened));
        services.AddAuthentication(OpenedTicketHandler.Name).AddScheme<AuthenticationSchemeOptions, OpenedTicketHandler>(OpenedTicketHandler.Name, null);
        await using var provider = services.BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = provider, User = opened.Principal };

        var refresher = new TokenRefresher(
            provider.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>(), TimeProvider.System, NullLogger<TokenRefresher>.Instance);
        var sent = new CapturingHandler();
        using var handler = new AccessTokenHandler(new HttpContextAccessor { HttpContext = context }, refresher, _store) { InnerHandler = sent };
        using var client = new HttpMessageInvoker(handler);
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://gateway/api/ordering/orders"), CancellationToken.None);
        return sent.Authorization;
    }

    private static AuthenticationTicket Ticket(string accessToken, string? refreshToken, TimeSpan expiresIn, string? sessionKey = null)
    {
        var identity = new ClaimsIdentity([new Claim("sub", "user-1"), new Claim("name", "Test User")], "test", "name", "role");
        if (sessionKey is not null)
        {
            identity.AddClaim(new Claim(RedisSessionStore.SessionKeyClaimType, sessionKey));
        }

        var properties = new AuthenticationProperties();
        List<AuthenticationToken> tokens =
        [
            new() { Name = "access_token", Value = accessToken },
            new() { Name = "expires_at", Value = Now.Add(expiresIn).ToString("o", CultureInfo.InvariantCulture) },
        ];
        if (refreshToken is not null)
        {
            tokens.Add(new() { Name = "refresh_token", Value = refreshToken });
        }

        properties.StoreTokens(tokens);
        return new AuthenticationTicket(new ClaimsPrincipal(identity), properties, "Cookies");
    }

    private sealed record OpenedTicket(AuthenticationTicket Ticket);

    /// <summary>The circuit's request: it authenticates as the ticket the page was opened with.</summary>
    private sealed class OpenedTicketHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, Microsoft.Extensions.Logging.ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder, OpenedTicket opened)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "Opened";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(opened.Ticket.Principal, opened.Ticket.Properties, Name)));
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public string? Authorization { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorization = request.Headers.Authorization?.ToString();
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}
