using Gateway.Configuration;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>
/// The output-cache policy of the routes whose service tags its responses (<see cref="CacheInvalidations.TagHeader"/>):
/// an anonymous GET is answered from the gateway's memory, without the hop to the service, until an invalidation of
/// one of its tags or <see cref="ResponseCacheSettings.ExpirationSeconds"/>. The service decides what is cacheable:
/// a response without tags is never kept.
/// </summary>
public sealed class TaggedResponseCachePolicy(CacheInvalidationState invalidations, IOptions<ResponseCacheSettings> settings, GatewayCacheMetrics metrics)
    : IOutputCachePolicy
{
    public const string Name = "tagged";

    private static readonly object EpochKey = new();

    ValueTask IOutputCachePolicy.CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var http = context.HttpContext;
        var cacheable = IsCacheable(http.Request, invalidations);

        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        // Concurrent misses of one page wait for the first one's response instead of all asking the service.
        context.AllowLocking = cacheable;
        context.ResponseExpirationTimeSpan = TimeSpan.FromSeconds(settings.Value.ExpirationSeconds);
        context.CacheVaryByRules.QueryKeys = "*";
        if (cacheable)
        {
            http.Items[EpochKey] = invalidations.Epoch;
        }
        else
        {
            metrics.Bypassed();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Whether a response to <paramref name="request"/> may be stored: an anonymous read while invalidations arrive.</summary>
    public static bool IsCacheable(HttpRequest request, CacheInvalidationState invalidations)
    {
        ArgumentNullException.ThrowIfNull(invalidations);
        return invalidations.IsListening && IsAnonymousRead(request);
    }

    /// <summary>
    /// A GET or HEAD without credentials. A request with credentials may get an answer for its user alone (RFC 9111,
    /// 3.5): it goes to the service.
    /// </summary>
    public static bool IsAnonymousRead(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && !request.Headers.ContainsKey(HeaderNames.Authorization);
    }

    ValueTask IOutputCachePolicy.ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        metrics.Hit();
        return ValueTask.CompletedTask;
    }

    ValueTask IOutputCachePolicy.ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        if (!context.AllowCacheStorage)
        {
            return ValueTask.CompletedTask;
        }

        metrics.Missed();
        var http = context.HttpContext;
        var tags = OriginCacheTags.Of(http);
        var fetchedUnchanged = http.Items[EpochKey] is long epoch && epoch == invalidations.Epoch;
        if (http.Response.StatusCode != StatusCodes.Status200OK
            || tags.Length == 0
            || http.Response.Headers.ContainsKey(HeaderNames.SetCookie)
            || !fetchedUnchanged
            || !invalidations.IsListening)
        {
            context.AllowCacheStorage = false;
            return ValueTask.CompletedTask;
        }

        context.Tags.UnionWith(tags);
        context.Tags.Add(CacheInvalidationListener.EveryResponseTag);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The tags a service put on its response; the gateway takes them off before the client sees it.</summary>
public static class OriginCacheTags
{
    private static readonly object Key = new();

    /// <summary>
    /// Moves <see cref="CacheInvalidations.TagHeader"/> from the proxied response into the request's items, as it came:
    /// most responses are never stored (signed-in reads, misses that the cache refuses), so it is parsed only by
    /// <see cref="Of"/>.
    /// </summary>
    public static void TakeFromResponse(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.Headers.Remove(CacheInvalidations.TagHeader, out var values))
        {
            context.Items[Key] = values;
        }
    }

    public static string[] Of(HttpContext context) =>
        context.Items.TryGetValue(Key, out var values) && values is StringValues header ? CacheInvalidations.ParseHeader(header) : [];
}
