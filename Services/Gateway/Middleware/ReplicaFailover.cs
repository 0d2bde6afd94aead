using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Middleware;

/// <summary>
/// A request whose connection to one replica of a service was refused (its process is down or restarting) never
/// reached it, so it goes to another replica instead of failing. A replica that is down costs a request routed to it
/// one refused connection (a fraction of a millisecond on one machine), which is why no passive health check runs on
/// every request to keep it out. Once every replica has refused, the request gets <see cref="UnreachableServices"/>'
/// 503. A request that reached a replica is never sent twice: only a refused connection counts. A service with one
/// destination skips this step without an async frame.
/// </summary>
public static class ReplicaFailover
{
    public static IReverseProxyApplicationBuilder UseReplicaFailover(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        proxy.Use(static (context, next) =>
        {
            var proxyFeature = context.GetReverseProxyFeature();
            return proxyFeature.AvailableDestinations.Count > 1 ? ForwardWithFailoverAsync(context, proxyFeature, next) : next(context);
        });
        return proxy;
    }

    private static async Task ForwardWithFailoverAsync(HttpContext context, IReverseProxyFeature proxyFeature, RequestDelegate next)
    {
        // Load balancing narrows the list to the destination it picks: the others are remembered here.
        var candidates = proxyFeature.AvailableDestinations;
        while (true)
        {
            await next(context);
            if (context.GetForwarderErrorFeature() is not { } failure || !UnreachableServices.NeverReachedService(failure)
                || context.Response.HasStarted || proxyFeature.ProxiedDestination is not { } refused)
            {
                return;
            }

            candidates = [.. candidates.Where(destination => destination != refused)];
            if (candidates.Count == 0)
            {
                return;
            }

            // YARP forwards only a response nothing has been set on: undo its 502, keep what earlier steps set.
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.StatusCode = StatusCodes.Status200OK;
            proxyFeature.AvailableDestinations = candidates;
        }
    }
}
