using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests;

/// <summary>Helpers for the tests that run a real Kestrel server on a free loopback port.</summary>
internal static class KestrelApps
{
    /// <summary>The address a started app listens on (it was given port 0).</summary>
    public static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

    /// <summary>A client of a started app.</summary>
    public static HttpClient ClientOf(WebApplication app) => new() { BaseAddress = new Uri(AddressOf(app)) };
}
