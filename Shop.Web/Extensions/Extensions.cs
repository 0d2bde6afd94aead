using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Net.Http.Headers;
using Polly.Timeout;
using Shop.Web.Apis;
using Shop.Web.Authentication;
using Shop.Web.Cart;
using Shop.Web.Services;
using StackExchange.Redis;

namespace Shop.Web.Extensions;

public static partial class Extensions
{
    /// <summary>The AppHost's Redis resource, which holds the carts.</summary>
    public const string CartConnectionName = "cache";

    /// <summary>The storefront's not-found page (<c>Components/Pages/NotFound.razor</c>).</summary>
    public const string NotFoundPath = "/not-found";

    /// <summary>The query parameter that carries what a page is sent back with (the cart page's notices share it).</summary>
    public const string NoticeQueryName = "notice";

    /// <summary>A form of the page was refused because the session changed since the page was rendered (the layout says so).</summary>
    public const string SessionChangedNotice = "session-changed";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents();

        builder.AddStorefrontAuthentication();
        builder.AddCarts(CartConnectionName);
        builder.AddGatewayClients();

        return builder;
    }

    /// <summary>
    /// Headers every answer carries: no content-type sniffing (a response is what its type says, never script), and
    /// no full page address (with its query: a search, an order number) in the Referer sent to other origins.
    /// Framing is already refused (antiforgery's <c>X-Frame-Options</c>, Blazor's <c>frame-ancestors</c>).
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        return app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            return next(context);
        });
    }

    /// <summary>
    /// A page request (GET or HEAD: a browser navigating) that finds nothing, an empty 404 from no endpoint or from a
    /// page, shows the not-found page, its status kept. Every other answer keeps its own: another status (a picture's
    /// 503 while the catalog is down is not "Not found"), an endpoint that is not a page (a missing picture is no HTML
    /// for an <c>img</c>; nor is an address among the pictures that names none, <c>/catalog/pictures/x</c>), another method (re-executed with that method, the page answered a POST with an antiforgery
    /// 400 and a PUT with a 405 naming the page's own methods, hiding the 405 and <c>Allow</c> routing gave: a POST to
    /// <c>/health</c>, which takes GET and HEAD only).
    /// </summary>
    public static IApplicationBuilder UseNotFoundPageForNavigations(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.UseStatusCodePagesWithReExecute(NotFoundPath, createScopeForStatusCodePages: true);
        // Switched off per request rather than skipped in a UseWhen branch: re-executed from a branch, the page came out
        // empty. Whether the status is a 404 is known only once the endpoint answered, before the status code pages look.
        return app.Use(static async (context, next) =>
        {
            if (context.Features.Get<IStatusCodePagesFeature>() is not { } statusCodePages)
            {
                await next(context);
                return;
            }

            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                statusCodePages.Enabled = false;
            }

            await next(context);

            if (context.Response.StatusCode != StatusCodes.Status404NotFound
                || (context.GetEndpoint() is { } endpoint && endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is null)
                || context.Request.Path.StartsWithSegments(PicturesApi.PicturesPath, StringComparison.OrdinalIgnoreCase))
            {
                statusCodePages.Enabled = false;
            }
        });
    }

    /// <summary>
    /// Pages answer HEAD as they answer GET (the server sends no body for HEAD), as link checkers, crawlers and
    /// monitors expect of a site. Blazor maps pages for GET and POST only, so a HEAD was routing's 405, which the
    /// not-found page then answered as a 404. The last method metadata of an endpoint is the one routing reads.
    /// </summary>
    public static RazorComponentsEndpointConventionBuilder WithHeadForPages(this RazorComponentsEndpointConventionBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Add(static endpoint =>
        {
            if (endpoint.Metadata.OfType<ComponentTypeMetadata>().Any()
                && endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is { } methods
                && methods.HttpMethods.Contains(HttpMethods.Get) && !methods.HttpMethods.Contains(HttpMethods.Head))
            {
                endpoint.Metadata.Add(new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight));
            }
        });
        return builder;
    }

    /// <summary>
    /// A form whose antiforgery token no longer holds is sent back to its page, which says so, rather than answered with
    /// a bare 400. A token belongs to the user the page was rendered for: signing in or out in another tab makes every
    /// open page's forms fail (as does an antiforgery cookie that is gone). Nothing of the form is done: the browser gets
    /// the page again (303, so it asks with GET) with a token for the user it is now. Here, after <c>UseAntiforgery</c>
    /// set its verdict and before any endpoint (a page's form or the sign-out) would answer 400, is the one place.
    /// Only form posts: other content is no browser's form and keeps its 400.
    /// </summary>
    public static IApplicationBuilder UseStaleFormRedirect(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        return app.Use(static (context, next) =>
        {
            // Request.HasFormContentType would throw here: the form feature refuses a request whose token failed.
            if (context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: false }
                || !MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType)
                || !(contentType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
                     || contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)))
            {
                return next(context);
            }

            var request = context.Request;
            // A page's forms post to the page's own address; the sign-out endpoint has no page, so home it is.
            var page = context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null
                ? request.PathBase + request.Path + request.QueryString
                : request.PathBase + "/";
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            // Only to this site: a path like "//evil.example" must not make this an open redirect.
            context.Response.Headers.Location = QueryHelpers.AddQueryString(
                Authentication.AuthenticationExtensions.LocalOrHome(page), NoticeQueryName, SessionChangedNotice);
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The storefront talks to the gateway only; service discovery resolves http://gateway. Every call names the
    /// visitor's address; calls made for a signed-in user carry their access token. Catalog reads are public and
    /// go without it.
    /// </summary>
    private static void AddGatewayClients(this IHostApplicationBuilder builder)
    {
        builder.Services.AddTransient<VisitorAddressHandler>();
        builder.Services.AddTransient<AccessTokenHandler>();

        // A shopper is waiting for each of these calls: retry a failed one soon (0.25 s, then 0.5 s, 1 s) rather than
        // after the standard 2 s, so a page whose service is down says so within seconds.
        // The gateway's Retry-After (5 s while a service is unreachable) would replace those delays: a page then waited
        // 15 s and more before it said so. A shopper's page does not wait for a service to come back; a later page will.
        builder.Services.ConfigureAll<HttpStandardResilienceOptions>(options =>
        {
            options.Retry.Delay = TimeSpan.FromMilliseconds(250);
            options.Retry.ShouldRetryAfterHeader = false;
        });

        builder.Services.AddHttpClient<CatalogService>(http => http.BaseAddress = CatalogService.GatewayAddress)
            .AddHttpMessageHandler<VisitorAddressHandler>();
        builder.Services.AddHttpClient<ProfileService>(http => http.BaseAddress = CatalogService.GatewayAddress)
            .AddHttpMessageHandler<VisitorAddressHandler>()
            .AddHttpMessageHandler<AccessTokenHandler>();
        builder.Services.AddHttpClient<OrderingService>(http => http.BaseAddress = CatalogService.GatewayAddress)
            .AddHttpMessageHandler<VisitorAddressHandler>()
            .AddHttpMessageHandler<AccessTokenHandler>();

        // The gateway composes an order within its own budget and then answers with what it has. A try that ended
        // before that answer was sent again while the first was still running: three compositions, and the page
        // blamed ordering for a payment service that hung. The service defaults' handler is one pipeline for every
        // client, so this client gets a standard handler of its own. Taking the default one off is the documented way
        // to do that, still marked for evaluation (EXTEXP0001).
#pragma warning disable EXTEXP0001
        builder.Services.AddHttpClient<OrderDetailsService>(http => http.BaseAddress = CatalogService.GatewayAddress)
            .AddHttpMessageHandler<VisitorAddressHandler>()
            .AddHttpMessageHandler<AccessTokenHandler>()
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(options =>
            {
                options.AttemptTimeout.Timeout = OrderDetailsService.AttemptTimeout;
                options.TotalRequestTimeout.Timeout = OrderDetailsService.TotalTimeout;
                // The circuit breaker samples over at least two tries' time (the options' validation asks for it).
                options.CircuitBreaker.SamplingDuration = 2 * OrderDetailsService.AttemptTimeout;
                options.Retry.ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is not TimeoutRejectedException && HttpClientResiliencePredicates.IsTransient(args.Outcome));
            });
#pragma warning restore EXTEXP0001
    }

    /// <summary>
    /// Carts in Redis, shared by every replica of the storefront and kept across its restarts, and the sign-in sessions
    /// beside them (<see cref="RedisSessionStore"/>). Without a connection string the storefront still serves the
    /// catalog, keeps sessions in their cookies and says that the cart is unavailable; /health
    /// reports Redis as degraded rather than unhealthy, because the catalog and orders work without it.
    /// </summary>
    private static void AddCarts(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.Services.AddSingleton<CartStore>();
        builder.Services.AddScoped<CartSession>();
        builder.Services.AddSingleton(TimeProvider.System);

        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            builder.Services.AddHostedService<MissingCartStoreWarning>();
            return;
        }

        var options = ConfigurationOptions.Parse(connectionString);
        // Start even while Redis is down: pages say the cart is unavailable until it is back.
        options.AbortOnConnectFail = false;
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddHealthChecks()
            .AddRedis(services => services.GetRequiredService<IConnectionMultiplexer>(), name: connectionName, failureStatus: HealthStatus.Degraded);
        builder.Services.AddSessionsInRedis();
    }

    /// <summary>Says once, at start-up, that carts cannot work: the AppHost must reference the cache from the storefront.</summary>
    private sealed partial class MissingCartStoreWarning(ILogger<MissingCartStoreWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogMissing(logger, CartConnectionName);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Error, Message = "ConnectionStrings:{Name} is not set: carts are unavailable. Reference the Redis resource from the storefront (WithReference(cache)) or set ConnectionStrings__{Name}=\"host:port,password=…\".")]
        private static partial void LogMissing(ILogger logger, string name);
    }
}
