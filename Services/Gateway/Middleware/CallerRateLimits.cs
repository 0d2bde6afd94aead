using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Gateway.Caching;
using Gateway.Configuration;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Middleware;

/// <summary>
/// One fixed window per caller: the signed-in user (so one user cannot starve others behind the same address), or the
/// client address when anonymous. Health probes are not limited. Over the limit: 429, with <c>Retry-After</c> saying
/// when the caller's window opens again.
/// <para>
/// The partitioned limiter is System.Threading.RateLimiting's; the middleware is the gateway's own, in place of ASP.NET Core's
/// <c>UseRateLimiter</c>, which costs every request an async frame, a second partitioned limiter for per-endpoint
/// policies (the gateway has none), a closure and a combined lease (measured in bench/gateway/RESULTS.md). A fixed
/// window's permit is spent for good once taken, so its lease holds nothing to give back: it is released at once, and
/// an admitted request goes on without a frame of its own.
/// </para>
/// </summary>
public static class CallerRateLimits
{
    public static IHostApplicationBuilder AddCallerRateLimits(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddOptions<RateLimitSettings>()
            .Bind(builder.Configuration.GetSection(RateLimitSettings.SectionName))
            .Validate(s => s.PermitLimit > 0 && s.AnonymousPermitLimit > 0 && s.WindowSeconds > 0,
                "RateLimiting:PermitLimit, AnonymousPermitLimit and WindowSeconds must be positive.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<CallerRateLimiter>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(GatewayCacheMetrics.MeterName));
        return builder;
    }

    /// <summary>Place after authentication, which tells a user from an anonymous caller.</summary>
    public static IApplicationBuilder UseCallerRateLimits(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        var limiter = app.ApplicationServices.GetRequiredService<CallerRateLimiter>();
        return app.Use(next => context => limiter.TryAdmit(context, out var retryAfterSeconds)
            ? next(context)
            : WriteTooManyRequestsAsync(context, retryAfterSeconds));
    }

    private static Task WriteTooManyRequestsAsync(HttpContext context, int seconds)
    {
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return ProblemStatusCodePages.WriteProblemAsync(
            context,
            StatusCodes.Status429TooManyRequests,
            "Too many requests.",
            $"The rate limit for this client was reached. Try again in {seconds} second{(seconds == 1 ? "" : "s")}.",
            // ASP.NET Core fills in the type of the statuses it knows; 429 is not among them.
            type: "https://tools.ietf.org/html/rfc6585#section-4");
    }
}

/// <summary>The callers' windows, and the count of requests refused (<c>shop.gateway.rate_limit.rejections</c>).</summary>
public sealed class CallerRateLimiter : IDisposable
{
    private static readonly KeyValuePair<string, object?> UserTag = new("shop.gateway.caller", "user");
    private static readonly KeyValuePair<string, object?> AnonymousTag = new("shop.gateway.caller", "anonymous");

    private readonly PartitionedRateLimiter<HttpContext> _limiter;
    private readonly Counter<long> _rejections;

    public CallerRateLimiter(IOptions<RateLimitSettings> settings, IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(time);

        var limits = settings.Value;
        var window = TimeSpan.FromSeconds(limits.WindowSeconds);
        // Built once: a partition's limiter is created on its first request.
        Func<Caller, RateLimiter> userLimiter = _ => new CallerWindow(limits.PermitLimit, window, time);
        Func<Caller, RateLimiter> anonymousLimiter = _ => new CallerWindow(limits.AnonymousPermitLimit, window, time);
        _limiter = PartitionedRateLimiter.Create<HttpContext, Caller>(context =>
        {
            if (Microsoft.Extensions.Hosting.Extensions.IsHealthProbe(context.Request.Path))
            {
                return RateLimitPartition.GetNoLimiter(default(Caller));
            }

            return SubjectOf(context) is { } subject
                ? RateLimitPartition.Get(new Caller(subject, null), userLimiter)
                : RateLimitPartition.Get(new Caller(null, context.Connection.RemoteIpAddress ?? IPAddress.None), anonymousLimiter);
        });

        _rejections = meterFactory.Create(GatewayCacheMetrics.MeterName).CreateCounter<long>(
            "shop.gateway.rate_limit.rejections", "{request}",
            "Requests refused with 429 because their caller's window was used up, by shop.gateway.caller (user, anonymous).");
    }

    /// <summary>
    /// Takes a permit from the caller's window. False when it is used up, with the seconds until it opens again.
    /// </summary>
    public bool TryAdmit(HttpContext context, out int retryAfterSeconds)
    {
        ArgumentNullException.ThrowIfNull(context);

        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired)
        {
            retryAfterSeconds = 0;
            return true;
        }

        // Only a CallerWindow refuses, and its refusal always says when the window reopens.
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        retryAfterSeconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        _rejections.Add(1, SubjectOf(context) is null ? AnonymousTag : UserTag);
        return false;
    }

    public void Dispose() => _limiter.Dispose();

    /// <summary>
    /// The signed-in user's id: read once per accepted token by <see cref="BearerAuthentication"/>, or from the claims
    /// of a principal set otherwise. From the authentication feature, not HttpContext.User, which would create an empty
    /// principal for every anonymous request.
    /// </summary>
    private static string? SubjectOf(HttpContext context) => context.Features.Get<IHttpAuthenticationFeature>()?.User switch
    {
        null => null,
        SignedInUser user => user.Subject,
        var principal => principal.FindFirstValue("sub") is { Length: > 0 } subject ? subject : null,
    };

    /// <summary>A rate-limit partition: a signed-in user (the token's <c>sub</c>) or, when anonymous, a client address.</summary>
    private readonly record struct Caller(string? Subject, IPAddress? Address);

    /// <summary>
    /// One caller's fixed window: it opens with the caller's first request, lets <c>permits</c> requests through, and
    /// the first request after it ends opens the next. In place of <see cref="FixedWindowRateLimiter"/>, whose refusals
    /// say the whole window length whatever is left of it, and whose windows are turned by the partitioned limiter's
    /// 100 ms timer (a window started at that timer's tick after the last one ended, which the limiter does not
    /// expose): this one knows when its window started, so a refusal says the time actually left.
    /// </summary>
    private sealed class CallerWindow : RateLimiter
    {
        private static readonly RateLimitLease Admitted = new Lease(null);

        private readonly int _permits;
        private readonly TimeSpan _window;
        private readonly TimeProvider _time;
        private readonly Lock _lock = new();
        private long _opened;
        private int _available;

        public CallerWindow(int permits, TimeSpan window, TimeProvider time)
        {
            _permits = permits;
            _window = window;
            _time = time;
            _opened = time.GetTimestamp();
            _available = permits;
        }

        /// <summary>
        /// Idle once its window has ended: the caller's next request opens a fresh one anyway, so the partitioned
        /// limiter may drop it (10 s later).
        /// </summary>
        public override TimeSpan? IdleDuration
        {
            get
            {
                lock (_lock)
                {
                    var sinceEnd = _time.GetElapsedTime(_opened) - _window;
                    return sinceEnd >= TimeSpan.Zero ? sinceEnd : null;
                }
            }
        }

        public override RateLimiterStatistics GetStatistics()
        {
            lock (_lock)
            {
                return new() { CurrentAvailablePermits = _time.GetElapsedTime(_opened) >= _window ? _permits : _available };
            }
        }

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            lock (_lock)
            {
                var now = _time.GetTimestamp();
                var left = _window - _time.GetElapsedTime(_opened, now);
                if (left <= TimeSpan.Zero)
                {
                    _opened = now;
                    _available = _permits;
                    left = _window;
                }

                if (_available >= permitCount)
                {
                    _available -= permitCount;
                    return Admitted;
                }

                return new Lease(left);
            }
        }

        // Nothing waits for a permit (no queue): a request is admitted or refused at once.
        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(permitCount));

        /// <summary>Admitted (nothing to give back: a permit is spent for good) or refused until the window reopens.</summary>
        private sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
        {
            private static readonly string[] RetryAfterName = [MetadataName.RetryAfter.Name];

            public override bool IsAcquired => retryAfter is null;

            public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : RetryAfterName;

            public override bool TryGetMetadata(string metadataName, out object? metadata)
            {
                if (retryAfter is { } left && metadataName == MetadataName.RetryAfter.Name)
                {
                    metadata = left;
                    return true;
                }

                metadata = null;
                return false;
            }
        }
    }
}
