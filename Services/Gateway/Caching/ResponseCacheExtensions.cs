using Gateway.Configuration;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Caching;

/// <summary>Where the invalidation channel is: <c>ConnectionStrings:cache</c>, or nowhere (no response is cached).</summary>
public sealed record ResponseCacheConnection(ConfigurationOptions? Options);

public static class ResponseCacheExtensions
{
    public const string ConnectionName = "cache";

    /// <summary>
    /// The gateway's response cache: ASP.NET Core's output cache in memory, for the routes whose configuration names
    /// the <see cref="TaggedResponseCachePolicy.Name"/> policy, invalidated through Redis together with the services'
    /// own caches. Without <c>ConnectionStrings:cache</c> every request goes to the service.
    /// </summary>
    public static IReverseProxyBuilder AddTaggedResponseCache(this IReverseProxyBuilder proxy, IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddOptions<ResponseCacheSettings>()
            .Bind(builder.Configuration.GetSection(ResponseCacheSettings.SectionName))
            .Validate(s => s.ExpirationSeconds > 0 && s.SizeLimitMegabytes > 0 && s.MaximumResponseKilobytes > 0,
                "ResponseCache:ExpirationSeconds, SizeLimitMegabytes and MaximumResponseKilobytes must be positive.")
            .ValidateOnStart();

        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        ConfigurationOptions? options = null;
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            options = ConfigurationOptions.Parse(connectionString);
            options.AbortOnConnectFail = false;
            options.ClientName = builder.Environment.ApplicationName;
        }

        builder.Services.AddSingleton(new ResponseCacheConnection(options));
        builder.Services.AddSingleton<GatewayCacheMetrics>();
        builder.Services.AddSingleton<CacheInvalidationState>();
        builder.Services.AddSingleton<CacheInvalidationListener>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CacheInvalidationListener>());
        builder.Services.AddSingleton<TaggedResponseCachePolicy>();
        builder.Services.AddOutputCache();
        builder.Services.AddOptions<OutputCacheOptions>().Configure<IServiceProvider, IOptions<ResponseCacheSettings>>((cache, services, settings) =>
        {
            cache.SizeLimit = settings.Value.SizeLimitMegabytes * 1024L * 1024;
            cache.MaximumBodySize = settings.Value.MaximumResponseKilobytes * 1024L;
            cache.AddPolicy(TaggedResponseCachePolicy.Name, services.GetRequiredService<TaggedResponseCachePolicy>());
        });
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(GatewayCacheMetrics.MeterName));

        // Only the routes that name the policy pay for it. A cacheable request asks the service for tags
        // (CacheInvalidations.CapabilityHeader); the header a client sent is never passed on. Response transforms run
        // once the service's headers are copied, before the response starts.
        return proxy.AddTransforms(transforms =>
        {
            if (transforms.Route.OutputCachePolicy is null)
            {
                return;
            }

            if (!transforms.Services.GetRequiredService<IOptions<ResponseCacheSettings>>().Value.Enabled)
            {
                transforms.AddRequestHeaderRemove(CacheInvalidations.CapabilityHeader);
                return;
            }

            var invalidations = transforms.Services.GetRequiredService<CacheInvalidationState>();
            transforms.AddRequestTransform(context =>
            {
                var headers = context.ProxyRequest.Headers;
                headers.Remove(CacheInvalidations.CapabilityHeader);
                if (TaggedResponseCachePolicy.IsCacheable(context.HttpContext.Request, invalidations))
                {
                    headers.TryAddWithoutValidation(CacheInvalidations.CapabilityHeader, CacheInvalidations.CapabilityValue);
                }

                return ValueTask.CompletedTask;
            });
            transforms.AddResponseTransform(context =>
            {
                OriginCacheTags.TakeFromResponse(context.HttpContext);
                return ValueTask.CompletedTask;
            });
        });
    }

    /// <summary>
    /// The output cache middleware, for the requests it could answer: GET and HEAD. Every other request, and
    /// every request when <c>ResponseCache:Enabled</c> is false, skips it altogether, rather than having it set up a
    /// cache context only to store nothing.
    /// </summary>
    public static IApplicationBuilder UseTaggedResponseCache(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        if (!app.ApplicationServices.GetRequiredService<IOptions<ResponseCacheSettings>>().Value.Enabled)
        {
            return app;
        }

        return app.UseWhen(
            context => TaggedResponseCachePolicy.IsRead(context.Request),
            branch => branch.UseOutputCache());
    }
}
