using System.Net;
using System.Net.Sockets;
using Gateway.Apis;
using Gateway.Caching;
using Gateway.Middleware;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests;

/// <summary>Helpers for the tests that run a real Kestrel server on a free loopback port.</summary>
internal static class KestrelApps
{
    /// <summary>The address a started app listens on (it was given port 0).</summary>
    public static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

    /// <summary>A minimal app on a free loopback port, not started yet, without logging.</summary>
    public static WebApplication CreateSlim(Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = builder.Build();
        map(app);
        return app;
    }

    /// <summary>
    /// The gateway's shipped routes (<c>gateway.appsettings.json</c>) with <paramref name="cluster"/> sent to
    /// <paramref name="service"/>, not started yet; the routes' policies allow everyone, the response cache stores
    /// nothing, and a failed forward is answered as the gateway does. <paramref name="proxy"/> adds to the proxy's set-up.
    /// </summary>
    public static WebApplication CreateGatewayTo(string cluster, WebApplication service, Action<IReverseProxyBuilder>? proxy = null) =>
        CreateSlim(
            app =>
            {
                app.UseProblemStatusCodePages();
                app.UseAuthorization();
                app.MapReverseProxy();
            },
            builder =>
            {
                builder.Configuration
                    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.json"))
                    .AddInMemoryCollection(new Dictionary<string, string?>
                    {
                        [$"ReverseProxy:Clusters:{cluster}:Destinations:{cluster}:Address"] = AddressOf(service),
                    });
                builder.Services.AddProblemDetails();
                builder.Services.AddAuthorizationBuilder()
                    .SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build())
                    .AddPolicy(ShopPolicies.Admin, policy => policy.RequireAssertion(_ => true));
                builder.Services.AddOutputCache(cache => cache.AddPolicy(TaggedResponseCachePolicy.Name, policy => policy.NoCache()));
                var reverseProxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
                proxy?.Invoke(reverseProxy);
            });

    /// <summary>
    /// The gateway's shipped routes and its composed order endpoint, authorizing as the gateway does: tokens checked by
    /// its JWT handler (trusting <see cref="TestTokens"/>), each route's policy and its cluster's audience. Every service
    /// name (<c>http://ordering</c>, …) leads to <paramref name="services"/> through service discovery, as in the
    /// gateway; the response cache stores nothing. Not started yet.
    /// </summary>
    public static WebApplication CreateAuthorizingGateway(WebApplication services, IDictionary<string, string?>? configuration = null) =>
        CreateSlim(
            app =>
            {
                app.UseProblemStatusCodePages();
                app.UseBearerAuthentication();
                app.UseAuthorization();
                app.MapOrderDetailsApi();
                app.MapReverseProxy().RequireRouteAudiences();
            },
            builder =>
            {
                var address = AddressOf(services);
                builder.Configuration
                    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.json"))
                    .AddInMemoryCollection(new Dictionary<string, string?>
                    {
                        [$"{AuthenticationExtensions.IdentitySectionName}:Url"] = TestTokens.Issuer,
                        ["services:identity:http:0"] = address,
                        ["services:products:http:0"] = address,
                        ["services:ordering:http:0"] = address,
                        ["services:payment:http:0"] = address,
                    })
                    .AddInMemoryCollection(configuration ?? new Dictionary<string, string?>());
                var reverseProxy = builder.Configuration.GetSection("ReverseProxy");
                builder.AddDefaultAuthentication(RouteAudiences.ReadAll(reverseProxy));
                builder.Services.AddBearerAuthentication();
                builder.Services.TrustTestTokens();
                builder.Services.AddProblemDetails();
                builder.Services.AddServiceDiscovery();
                builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
                builder.Services.AddOutputCache(cache => cache.AddPolicy(TaggedResponseCachePolicy.Name, policy => policy.NoCache()));
                builder.Services.AddReverseProxy()
                    .LoadFromConfig(reverseProxy)
                    .ValidateRouteAudiences()
                    .AddServiceDiscoveryDestinationResolver();
                builder.AddOrderDetailsApi();
            });

    /// <summary>A client of a started app.</summary>
    public static HttpClient ClientOf(WebApplication app) => new() { BaseAddress = new Uri(AddressOf(app)) };

    /// <summary>A loopback port nothing listens on: bound for a moment to find it, then closed.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Tests of one app on a real Kestrel server: started before each test, with a client, and disposed after it.</summary>
public abstract class StartedAppTests : IAsyncLifetime
{
    protected WebApplication App { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    /// <summary>The app under test, not started yet (see <see cref="KestrelApps.CreateSlim"/>).</summary>
    protected abstract WebApplication CreateApp();

    public virtual async Task InitializeAsync()
    {
        App = CreateApp();
        await App.StartAsync();
        Client = KestrelApps.ClientOf(App);
    }

    public virtual async Task DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>
/// Activity listeners are process-wide, and a source samples with the most any listener asks for: tests that listen to
/// every request's activity, or that check how one is sampled, must not run beside each other.
/// </summary>
[CollectionDefinition(nameof(ActivitySamplingCollection))]
public sealed class ActivitySamplingCollection;
