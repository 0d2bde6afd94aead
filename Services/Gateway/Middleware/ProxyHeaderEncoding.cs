using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Middleware;

/// <summary>
/// Header values are forwarded as UTF-8, both ways. Kestrel reads a request's headers as UTF-8, but the proxy's
/// HttpClient writes only ASCII by default: a value such as <c>Idempotency-Key: ключ-1</c> failed the forward with a
/// 502, while the service itself accepts it. Answers' headers are read as UTF-8 too (HttpClient's default is Latin-1)
/// and Kestrel writes them as UTF-8 (its default refuses anything but ASCII, another 502), so a service's non-ASCII
/// value reaches the caller as it was sent.
/// </summary>
public static class ProxyHeaderEncoding
{
    /// <summary>A name <see cref="Encoding.GetEncoding(string)"/> knows, as YARP's cluster settings take it.</summary>
    private const string Utf8 = "utf-8";

    /// <summary>
    /// Applies to every cluster, whichever provider loads it; a cluster that names an encoding of its own keeps it. A
    /// config filter rather than <c>ConfigureHttpClient</c>, which keeps only its last callback and would drop
    /// <see cref="ProxyTracePropagation"/>'s.
    /// </summary>
    public static IReverseProxyBuilder ForwardHeadersAsUtf8(this IReverseProxyBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        proxy.Services.Configure<KestrelServerOptions>(kestrel => kestrel.ResponseHeaderEncodingSelector = _ => Encoding.UTF8);
        return proxy.AddConfigFilter<Utf8HeadersFilter>();
    }

    private sealed class Utf8HeadersFilter : IProxyConfigFilter
    {
        public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
        {
            var httpClient = cluster.HttpClient ?? HttpClientConfig.Empty;
            return ValueTask.FromResult(cluster with
            {
                HttpClient = httpClient with
                {
                    RequestHeaderEncoding = httpClient.RequestHeaderEncoding ?? Utf8,
                    ResponseHeaderEncoding = httpClient.ResponseHeaderEncoding ?? Utf8,
                },
            });
        }

        public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
            ValueTask.FromResult(route);
    }
}
