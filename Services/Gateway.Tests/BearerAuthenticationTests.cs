using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Gateway.Middleware;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Shop.ServiceDefaults;

namespace Gateway.Tests;

/// <summary>
/// The gateway's authentication step on a real Kestrel server, with a scheme that stands in for the JWT handler and
/// counts its calls: an accepted token's principal is reused for a minute at most and never past the token's expiry;
/// an expired token is remembered as anonymous for a minute; any other refused token is checked every time; a request
/// without a token never reaches the handler.
/// </summary>
public sealed class BearerAuthenticationTests : StartedAppTests
{
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);
    private readonly CountingHandler.Calls _calls = new();

    protected override WebApplication CreateApp() => KestrelApps.CreateSlim(
        app =>
        {
            app.UseBearerAuthentication();
            app.MapGet("/whoami", (HttpContext context) => context.User.FindFirstValue("sub") ?? "anonymous");
        },
        builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(_time);
            builder.Services.AddSingleton(_calls);
            builder.Services.AddAuthentication()
                .AddScheme<AuthenticationSchemeOptions, CountingHandler>(JwtBearerDefaults.AuthenticationScheme, _ => { });
            builder.Services.AddBearerAuthentication();
        });

    [Fact]
    public async Task An_accepted_token_is_checked_once_a_minute_and_every_request_with_it_gets_its_user()
    {
        Assert.Equal("user-1", await WhoAmI("user-1;600"));
        Assert.Equal("user-1", await WhoAmI("user-1;600"));
        Assert.Equal("user-2", await WhoAmI("user-2;600"));
        Assert.Equal(2, _calls.Count);

        _time.Advance(AcceptedTokenMemory<ClaimsPrincipal>.MaxRememberTime);

        Assert.Equal("user-1", await WhoAmI("user-1;600"));
        Assert.Equal(3, _calls.Count);
    }

    [Fact]
    public async Task A_token_is_not_reused_past_its_expiry()
    {
        Assert.Equal("user-1", await WhoAmI("user-1;20"));
        _time.Advance(TimeSpan.FromSeconds(21));
        _calls.Refuse = true;

        Assert.Equal("anonymous", await WhoAmI("user-1;20"));
        Assert.Equal(2, _calls.Count);
    }

    [Fact]
    public async Task A_refused_token_is_checked_every_time_and_no_token_never_is()
    {
        _calls.Refuse = true;
        Assert.Equal("anonymous", await WhoAmI("user-1;600"));
        Assert.Equal("anonymous", await WhoAmI("user-1;600"));
        Assert.Equal(2, _calls.Count);

        Assert.Equal("anonymous", await WhoAmI(token: null));
        Assert.Equal(2, _calls.Count);
    }

    [Fact]
    public async Task An_expired_token_is_checked_once_a_minute_and_its_requests_go_on_anonymous()
    {
        _calls.Expire = true;
        Assert.Equal("anonymous", await WhoAmI("user-1;600"));
        Assert.Equal("anonymous", await WhoAmI("user-1;600"));
        Assert.Equal(1, _calls.Count);

        _time.Advance(AcceptedTokenMemory<ClaimsPrincipal>.MaxRememberTime);

        Assert.Equal("anonymous", await WhoAmI("user-1;600"));
        Assert.Equal(2, _calls.Count);
    }

    private async Task<string> WhoAmI(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Accepts "Bearer {subject};{seconds to expiry}" unless told to refuse everything; counts its calls.</summary>
    private sealed class CountingHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TimeProvider time, CountingHandler.Calls calls)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            Interlocked.Increment(ref calls.Count);
            var token = Request.Headers.Authorization.ToString()["Bearer ".Length..].Split(';');
            if (calls.Refuse)
            {
                return Task.FromResult(AuthenticateResult.Fail("refused"));
            }

            if (calls.Expire)
            {
                return Task.FromResult(AuthenticateResult.Fail(new SecurityTokenExpiredException("expired")));
            }

            var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", token[0])], Scheme.Name));
            var properties = new AuthenticationProperties { ExpiresUtc = time.GetUtcNow().AddSeconds(int.Parse(token[1])) };
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, properties, Scheme.Name)));
        }

        public sealed class Calls
        {
            public int Count;

            public volatile bool Refuse;

            public volatile bool Expire;
        }
    }
}
