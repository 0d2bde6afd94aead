using Microsoft.AspNetCore.Server.Kestrel.Core;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Extensions;

public enum DashboardEndpointKind
{
    Frontend,
    OtlpGrpc,
    OtlpHttp,
}

/// <summary>Set on every connection so a request can tell which of the dashboard's endpoints it came in on.</summary>
public sealed class DashboardEndpointFeature(DashboardEndpointKind kind)
{
    public DashboardEndpointKind Kind { get; } = kind;
}

/// <summary>The dashboard's three endpoints, each its own Kestrel listener.</summary>
public sealed record DashboardEndpoints(IReadOnlyList<BindingAddress> Frontend, BindingAddress OtlpGrpc, BindingAddress OtlpHttp)
{
    public static DashboardEndpoints FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var frontend = FirstSet(configuration[WebHostDefaults.ServerUrlsKey], configuration[KnownConfigNames.FrontendUrls]) ?? KnownConfigNames.DefaultFrontendUrl;
        var grpc = FirstSet(configuration[KnownConfigNames.OtlpGrpcEndpointUrl], configuration[KnownConfigNames.OtlpGrpcEndpointUrlAspire]) ?? KnownConfigNames.DefaultOtlpGrpcUrl;
        var http = FirstSet(configuration[KnownConfigNames.OtlpHttpEndpointUrl], configuration[KnownConfigNames.OtlpHttpEndpointUrlAspire]) ?? KnownConfigNames.DefaultOtlpHttpUrl;
        return new(
            [.. frontend.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BindingAddress.Parse)],
            BindingAddress.Parse(grpc),
            BindingAddress.Parse(http));
    }

    /// <summary>The URL to show people: the first frontend address, with a wildcard host made browsable.</summary>
    public string BrowserUrl
    {
        get
        {
            var address = Frontend[0];
            var host = address.Host is "*" or "+" or "0.0.0.0" or "[::]" ? "localhost" : address.Host;
            return $"{address.Scheme}://{host}:{address.Port}";
        }
    }

    internal void Listen(KestrelServerOptions kestrel)
    {
        foreach (var address in Frontend)
        {
            Listen(kestrel, address, WebProtocols(address), DashboardEndpointKind.Frontend);
        }

        // OTLP/gRPC over cleartext needs HTTP/2 without negotiation (prior knowledge).
        Listen(kestrel, OtlpGrpc, IsHttps(OtlpGrpc) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http2, DashboardEndpointKind.OtlpGrpc);
        Listen(kestrel, OtlpHttp, WebProtocols(OtlpHttp), DashboardEndpointKind.OtlpHttp);
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress address, HttpProtocols protocols, DashboardEndpointKind kind)
    {
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (IsHttps(address))
            {
                listen.UseHttps();
            }

            listen.Use(next => connection =>
            {
                connection.Features.Set(new DashboardEndpointFeature(kind));
                return next(connection);
            });
        }

        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, Configure);
        }
        else if (System.Net.IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, address.Port, Configure);
        }
        else
        {
            kestrel.ListenAnyIP(address.Port, Configure);
        }
    }

    // HTTP/2 needs TLS negotiation for browsers and HTTP clients; without TLS offering it only produces a warning.
    private static HttpProtocols WebProtocols(BindingAddress address) => IsHttps(address) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;

    private static bool IsHttps(BindingAddress address) => string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase);

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
