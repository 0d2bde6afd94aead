using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// The storefront's own Program, in process, signed in as one user, in front of a gateway that stands in for the real
/// one on a loopback port: each test maps the gateway endpoints its pages call and reads the pages as a browser would.
/// </summary>
public abstract class StorefrontBeforeStandInGateway : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _gatewayRequests = new();
    private WebApplicationFactory<Program>? _storefront;

    protected WebApplication Gateway { get; private set; } = null!;

    /// <summary>Every request the stand-in gateway got, as "GET /api/bff/orders/…".</summary>
    protected IReadOnlyCollection<string> GatewayRequests => _gatewayRequests;

    /// <summary>Maps the stand-in gateway's endpoints.</summary>
    protected abstract void MapGateway(WebApplication gateway);

    /// <summary>Settings of the storefront's own beyond the stand-in gateway's address (e.g. its Redis).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> StorefrontSettings => [];

    /// <summary>A client of the storefront that does not follow redirects, as a test of statuses needs.</summary>
    protected HttpClient CreateClient() => _storefront!.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>The storefront's services, for a test that calls what no request of its own can reach (the sign-in's callback events).</summary>
    protected IServiceProvider StorefrontServices => _storefront!.Services;

    /// <summary>A request built to the last detail (such as the address it comes from), answered by the storefront.</summary>
    protected Task<HttpContext> SendAsync(Action<HttpContext> request) => _storefront!.Server.SendAsync(request);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        Gateway = builder.Build();
        Gateway.Use((context, next) =>
        {
            _gatewayRequests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            return next(context);
        });
        MapGateway(Gateway);
        await Gateway.StartAsync();
        var address = Gateway.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        _storefront = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in StorefrontSettings)
            {
                web.UseSetting(key, value);
            }

            web.UseEnvironment("Development")
            .UseSetting("Identity:Url", "http://127.0.0.1:1")
            .UseSetting("services:gateway:http:0", address)
            .ConfigureServices(services =>
            {
                services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, SignedInShopper>(SignedInShopper.Name, null);
                services.PostConfigure<AuthenticationOptions>(options =>
                {
                    options.DefaultScheme = SignedInShopper.Name;
                    options.DefaultAuthenticateScheme = SignedInShopper.Name;
                    options.DefaultChallengeScheme = SignedInShopper.Name;
                });
            });
        });
    }

    public async Task DisposeAsync()
    {
        if (_storefront is not null)
        {
            await _storefront.DisposeAsync();
        }

        await Gateway.DisposeAsync();
    }

    /// <summary>The signed-in shopper's subject (<c>sub</c>), which names their cart.</summary>
    protected const string Subject = "user-1";

    /// <summary>A request with this header comes from a visitor who is not signed in (the shopper before sign-in, or after sign-out).</summary>
    protected const string SignedOutHeader = "X-Test-Signed-Out";

    /// <summary>Every request comes from the same signed-in shopper, whose session holds an access token (unless it says <see cref="SignedOutHeader"/>).</summary>
    private sealed class SignedInShopper(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "SignedInShopper";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers.ContainsKey(SignedOutHeader))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim("sub", Subject), new Claim("name", "Ada")], Name, "name", "role");
            var properties = new AuthenticationProperties();
            properties.StoreTokens([new AuthenticationToken { Name = "access_token", Value = "token-of-user-1" }]);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, Name)));
        }
    }
}
