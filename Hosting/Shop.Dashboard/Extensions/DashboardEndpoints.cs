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

/// <summary>The dashboard's three endpoints, each its own Kestrel listener, told apart by port (so ports must be fixed, not 0).</summary>
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

    /// <summary>Every address to bind: the hosting layer binds them, which keeps ASP.NET Core's URL handling intact.</summary>
    public IEnumerable<string> Urls => [.. Frontend.Select(a => a.ToString()), OtlpGrpc.ToString(), OtlpHttp.ToString()];

    /// <summary>
    /// Applied by Kestrel to each endpoint it binds: picks the endpoint's protocols by its port and tags its
    /// connections with <see cref="DashboardEndpointFeature"/>.
    /// </summary>
    internal void ConfigureEndpoint(ListenOptions listen)
    {
        var port = listen.IPEndPoint?.Port;
        var (kind, address) = port == OtlpGrpc.Port ? (DashboardEndpointKind.OtlpGrpc, OtlpGrpc)
            : port == OtlpHttp.Port ? (DashboardEndpointKind.OtlpHttp, OtlpHttp)
            : (DashboardEndpointKind.Frontend, Frontend.FirstOrDefault(f => f.Port == port) ?? Frontend[0]);

        // OTLP/gRPC over cleartext needs HTTP/2 without negotiation (prior knowledge).
        listen.Protocols = kind == DashboardEndpointKind.OtlpGrpc && !IsHttps(address) ? HttpProtocols.Http2 : WebProtocols(address);
        listen.Use(next => connection =>
        {
            connection.Features.Set(new DashboardEndpointFeature(kind));
            return next(connection);
        });
    }

    // HTTP/2 needs TLS negotiation for browsers and HTTP clients; without TLS offering it only produces a warning.
    private static HttpProtocols WebProtocols(BindingAddress address) => IsHttps(address) ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;

    private static bool IsHttps(BindingAddress address) => string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase);

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
