using System.Diagnostics.Metrics;
using Gateway.Caching;
using Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests;

/// <summary>
/// The gateway's response cache policy, unit by unit: what it keeps, under which tags, and what it never keeps. The
/// whole path (products tags a page, the gateway serves it again, an admin's change drops it) runs in Shop.Tests.
/// </summary>
public sealed class ResponseCacheTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CacheInvalidationState _state = new() { IsListening = true };
    private readonly IOutputCachePolicy _policy;

    public ResponseCacheTests()
    {
        _policy = new TaggedResponseCachePolicy(_state, Options.Create(new ResponseCacheSettings()), Metrics());
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task An_anonymous_GET_is_looked_up_and_its_tagged_200_is_stored_under_the_services_tags()
    {
        var context = Context("GET");
        await _policy.CacheRequestAsync(context, default);
        Assert.True(context.AllowCacheLookup && context.AllowCacheStorage && context.AllowLocking);
        Assert.Equal("*", context.CacheVaryByRules.QueryKeys.ToString());

        Respond(context, StatusCodes.Status200OK, "catalog product:7 product:9");
        await _policy.ServeResponseAsync(context, default);

        Assert.True(context.AllowCacheStorage);
        Assert.Equal(["catalog", CacheInvalidationListener.EveryResponseTag, "product:7", "product:9"], context.Tags.Order());
        // The tags are the gateway's business: the client never sees them.
        Assert.False(context.HttpContext.Response.Headers.ContainsKey(CacheInvalidations.TagHeader));
    }

    [Fact]
    public async Task A_HEAD_goes_to_the_service_since_a_stored_answer_to_it_would_say_the_body_is_empty()
    {
        var context = Context("HEAD");

        await _policy.CacheRequestAsync(context, default);

        Assert.False(context.AllowCacheLookup);
        Assert.False(context.AllowCacheStorage);
    }

    [Theory]
    [InlineData("POST", false, true)]
    [InlineData("DELETE", true, true)]
    [InlineData("GET", false, false)]
    [InlineData("GET", true, false)]
    public async Task Writes_and_reads_while_the_cache_does_not_hear_invalidations_go_to_the_service(
        string method, bool withToken, bool listening)
    {
        _state.IsListening = listening;
        var context = Context(method);
        if (withToken)
        {
            context.HttpContext.Request.Headers.Authorization = "Bearer x";
        }

        await _policy.CacheRequestAsync(context, default);

        Assert.False(context.AllowCacheLookup);
        Assert.False(context.AllowCacheStorage);
    }

    [Fact]
    public async Task A_signed_in_read_shares_the_entries_a_tagged_response_is_the_same_for_every_caller()
    {
        var context = Context("GET");
        context.HttpContext.Request.Headers.Authorization = "Bearer x";

        await _policy.CacheRequestAsync(context, default);
        Assert.True(context.AllowCacheLookup);

        Respond(context, StatusCodes.Status200OK, "catalog product:7");
        await _policy.ServeResponseAsync(context, default);
        Assert.True(context.AllowCacheStorage);
        Assert.Contains("product:7", context.Tags);
    }

    [Fact]
    public async Task An_untagged_answer_to_a_signed_in_read_one_for_its_user_alone_is_not_stored()
    {
        var context = Context("GET");
        context.HttpContext.Request.Headers.Authorization = "Bearer x";
        await _policy.CacheRequestAsync(context, default);

        Respond(context, StatusCodes.Status200OK, null);
        await _policy.ServeResponseAsync(context, default);

        Assert.False(context.AllowCacheStorage);
    }

    [Theory]
    [InlineData(StatusCodes.Status200OK, null, false)] // the service did not say it may be cached
    [InlineData(StatusCodes.Status404NotFound, "product:7", false)]
    [InlineData(StatusCodes.Status200OK, "catalog", true)] // a cookie for one client
    public async Task Untagged_unsuccessful_and_cookie_setting_responses_are_not_stored(int status, string? tags, bool setsCookie)
    {
        var context = Context("GET");
        await _policy.CacheRequestAsync(context, default);

        Respond(context, status, tags);
        if (setsCookie)
        {
            context.HttpContext.Response.Headers.SetCookie = "a=b";
        }

        await _policy.ServeResponseAsync(context, default);

        Assert.False(context.AllowCacheStorage);
    }

    [Fact]
    public async Task A_response_fetched_while_an_invalidation_arrived_is_not_stored()
    {
        var context = Context("GET");
        await _policy.CacheRequestAsync(context, default);

        _state.Advance(); // the service may have read the data before the change the invalidation is about
        Respond(context, StatusCodes.Status200OK, "catalog product:7");
        await _policy.ServeResponseAsync(context, default);

        Assert.False(context.AllowCacheStorage);
    }

    [Theory]
    [InlineData("shop-gateway=\"Cache-Tag/1.0\"", true)]
    [InlineData("other=\"ESI/1.0\", shop-gateway=\"Cache-Tag/1.0\"", true)]
    [InlineData("other=\"ESI/1.0\"", false)]
    [InlineData(null, false)]
    public void Services_tag_responses_only_for_a_cache_that_announces_it_wants_tags(string? capability, bool wanted) =>
        Assert.Equal(wanted, CacheInvalidations.WantsTags(capability is null ? [] : [capability]));

    [Fact]
    public void Tag_headers_are_split_on_spaces_and_commas_once_each()
    {
        Assert.Equal(["catalog", "product:7", "product:9"], CacheInvalidations.ParseHeader(["catalog product:7,product:9", " product:7 "]));
        Assert.Empty(CacheInvalidations.ParseHeader([null, " "]));
    }

    [Fact]
    public async Task An_invalidation_drops_the_tagged_responses_at_once_and_again_after_the_second_pass_delay()
    {
        var store = new RecordingStore();
        var listener = new CacheInvalidationListener(
            new ResponseCacheConnection(null), Options.Create(new ResponseCacheSettings()), _state, store, Metrics(), TimeProvider.System, NullLogger<CacheInvalidationListener>.Instance)
        {
            SecondPassDelay = TimeSpan.FromMilliseconds(50),
        };
        var epoch = _state.Epoch;

        await listener.InvalidateAsync(["product:7", "catalog"], default);
        Assert.Equal(["product:7", "catalog"], store.Evicted);
        Assert.True(_state.Epoch > epoch);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (store.Evicted.Count < 4)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(["product:7", "catalog", "product:7", "catalog"], store.Evicted);
    }

    private GatewayCacheMetrics Metrics() => new(_services.GetRequiredService<IMeterFactory>());

    private static OutputCacheContext Context(string method)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        return new OutputCacheContext { HttpContext = http };
    }

    /// <summary>The service's response as YARP leaves it: headers copied, then the response transform takes the tags.</summary>
    private static void Respond(OutputCacheContext context, int status, string? tags)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = status;
        if (tags is not null)
        {
            response.Headers[CacheInvalidations.TagHeader] = tags;
        }

        OriginCacheTags.TakeFromResponse(context.HttpContext);
    }

    private sealed class RecordingStore : IOutputCacheStore
    {
        private readonly List<string> _evicted = [];

        public List<string> Evicted
        {
            get
            {
                lock (_evicted)
                {
                    return [.. _evicted];
                }
            }
        }

        public ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
        {
            lock (_evicted)
            {
                _evicted.Add(tag);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult<byte[]?>(null);

        public ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken) =>
            ValueTask.CompletedTask;
    }
}
