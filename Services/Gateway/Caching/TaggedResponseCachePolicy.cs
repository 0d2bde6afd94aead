using Gateway.Configuration;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>
/// The output-cache policy of the routes whose service tags its responses (<see cref="CacheInvalidations.TagHeader"/>):
/// a GET is answered from the gateway's memory, without the hop to the service, until an invalidation of one of its
/// tags or <see cref="ResponseCacheSettings.ExpirationSeconds"/>. The service decides what is cacheable: a response
/// without tags is never kept, and a tagged one is the same for every caller, so signed-in and anonymous readers share
/// the entries. The middleware runs after token validation, the rate limiter and authorization: a cached answer is
/// still only for a caller who may have it, and still counted.
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

    /// <summary>
    /// Whether a response to <paramref name="request"/> may be looked up and stored: a GET while invalidations arrive.
    /// A HEAD goes to the service every time: the cache keys entries by method, and a stored answer to HEAD has no
    /// body, so the cache served later HEADs with <c>Content-Length: 0</c> where GET's length belonged.
    /// </summary>
    public static bool IsCacheable(HttpRequest request, CacheInvalidationState invalidations)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(invalidations);
        return invalidations.IsListening && HttpMethods.IsGet(request.Method);
    }

    /// <summary>
    /// A GET or HEAD, with credentials or without: what may be kept is the service's to say (a tagged response is the
    /// same for every caller), and an untagged response, one for its user alone, is never stored.
    /// </summary>
    public static bool IsRead(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
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
    /// many responses are never stored (untagged ones, misses that the cache refuses), so it is parsed only by
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
