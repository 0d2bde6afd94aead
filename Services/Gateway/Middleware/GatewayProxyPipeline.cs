namespace Gateway.Middleware;

/// <summary>
/// What runs for each proxied request, in order: YARP's own steps (session affinity, load balancing, passive health
/// checks), with <see cref="ReplicaFailover"/> in front so that a refused connection to the replica load balancing
/// picked is tried again at another.
/// </summary>
public static class GatewayProxyPipeline
{
    public static IReverseProxyApplicationBuilder UseGatewayProxyPipeline(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        proxy.UseReplicaFailover();
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        proxy.UsePassiveHealthChecks();
        return proxy;
    }
}
