using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Middleware;

/// <summary>
/// A forwarded request carries the gateway's own request span as its trace parent. YARP's default gives each forward
/// a client span of its own (HttpClient's diagnostics handler creates it and writes <c>traceparent</c>); that span
/// repeats the request span around it, and creating, recording and exporting it cost about 7 % of the gateway's CPU
/// per proxied request (paired runs, bench/gateway/RESULTS.md, 2026-12-05). The trace stays one tree: gateway request span, then
/// the service's request span under it. The gateway's own HttpClients (order details) keep their client spans.
/// </summary>
public static class ProxyTracePropagation
{
    public static IReverseProxyBuilder PropagateRequestSpan(this IReverseProxyBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        // Without a propagator, SocketsHttpHandler leaves out its diagnostics handler: no client activity per forward.
        proxy.ConfigureHttpClient((_, handler) => handler.ActivityHeadersPropagator = null);
        return proxy.AddTransforms(transforms => transforms.AddRequestTransform(context =>
        {
            ReplaceTraceContext(context.ProxyRequest, Activity.Current);
            return ValueTask.CompletedTask;
        }));
    }

    /// <summary>
    /// The caller's trace headers (copied with the others) give way to the current span's: the service's span is a
    /// child of the gateway's, which is itself the caller's child when the caller sent a <c>traceparent</c>.
    /// </summary>
    public static void ReplaceTraceContext(HttpRequestMessage request, Activity? current)
    {
        ArgumentNullException.ThrowIfNull(request);

        var propagator = DistributedContextPropagator.Current;
        foreach (var field in propagator.Fields)
        {
            request.Headers.Remove(field);
        }

        if (current is not null)
        {
            propagator.Inject(current, request, static (carrier, name, value) =>
                ((HttpRequestMessage)carrier!).Headers.TryAddWithoutValidation(name, value));
        }
    }
}
