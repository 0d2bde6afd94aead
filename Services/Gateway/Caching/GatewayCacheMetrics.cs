using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Caching;

/// <summary>The gateway's response cache in numbers (meter <c>Gateway</c>).</summary>
public sealed class GatewayCacheMetrics
{
    /// <summary>The gateway's own meter: the response cache's and the rate limiter's instruments.</summary>
    public const string MeterName = "Gateway";

    private static readonly KeyValuePair<string, object?> HitTag = new("shop.gateway.cache.result", "hit");
    private static readonly KeyValuePair<string, object?> MissTag = new("shop.gateway.cache.result", "miss");
    private static readonly KeyValuePair<string, object?> BypassTag = new("shop.gateway.cache.result", "bypass");

    private readonly Counter<long> _requests;
    private readonly Counter<long> _invalidations;

    public GatewayCacheMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>(
            "shop.gateway.cache.requests", "{request}",
            "Requests on cacheable routes, by result: hit (answered from the gateway's memory), miss (sent to the service), bypass (invalidations are not arriving, so the cache is not used).");
        _invalidations = meter.CreateCounter<long>(
            "shop.gateway.cache.invalidations", "{invalidation}", "Invalidations applied to the gateway's response cache.");
    }

    public void Hit() => _requests.Add(1, HitTag);

    public void Missed() => _requests.Add(1, MissTag);

    public void Bypassed() => _requests.Add(1, BypassTag);

    public void Invalidated() => _invalidations.Add(1);
}
