using System.Net;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Who may say who the client is. <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed from loopback and
/// from the networks in <c>ForwardedHeaders:KnownNetworks</c> (a list, or one value with commas: the pod network of
/// a cluster, an ingress's), from no one else. Aspire-style hosts set <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>,
/// with which ASP.NET Core believes every sender: a visitor could then name any address, and get a fresh
/// rate-limit partition at the gateway with each request.
/// </summary>
public static class TrustedProxyExtensions
{
    public const string KnownNetworksKey = "ForwardedHeaders:KnownNetworks";

    /// <exception cref="InvalidOperationException">A known network is not an address or a CIDR range.</exception>
    public static TBuilder AddTrustedProxies<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var networks = ReadKnownNetworks(builder.Configuration);
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the nearest proxy's word counts: further entries were written by whoever sent the request.
            options.ForwardLimit = 1;
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            options.KnownProxies.Add(IPAddress.Loopback);
            options.KnownProxies.Add(IPAddress.IPv6Loopback);
            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
        return builder;
    }

    /// <summary>
    /// Takes the client's address and scheme from a trusted proxy, once. With <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>
    /// ASP.NET Core already does it first in the pipeline, with the options of <see cref="AddTrustedProxies"/>; a
    /// second run would cost every request for nothing.
    /// </summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var configuration = app.ApplicationServices.GetRequiredService<IConfiguration>();
        if (!string.Equals(configuration["FORWARDEDHEADERS_ENABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    /// <summary>The networks of <see cref="KnownNetworksKey"/>: its items, or its one value split at commas; an address alone is a network of one.</summary>
    /// <exception cref="InvalidOperationException">A value is neither an address nor a CIDR range.</exception>
    public static IReadOnlyList<IPNetwork> ReadKnownNetworks(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration.GetSection(KnownNetworksKey);
        var values = section.Value is { } list
            ? list.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : section.GetChildren().Select(child => child.Value?.Trim()).OfType<string>().Where(value => value.Length > 0);
        var networks = new List<IPNetwork>();
        foreach (var value in values)
        {
            if (IPNetwork.TryParse(value, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(value, out var address))
            {
                networks.Add(new IPNetwork(address, address.GetAddressBytes().Length * 8));
            }
            else
            {
                throw new InvalidOperationException(
                    $"{KnownNetworksKey}: '{value}' is neither an IP address nor a network in CIDR notation (such as 10.244.0.0/16 or fd00::/8).");
            }
        }

        return networks;
    }
}
