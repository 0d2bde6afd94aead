using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Shop.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The defaults every Shop process shares: OpenTelemetry, health checks, forwarded client addresses from trusted
/// proxies only, service discovery with failover between replicas, resilient HttpClients, and the return of start-up's garbage once started. Same shape as Aspire's
/// service-defaults project, so the services run unchanged under Shop's AppHost, real Aspire or Kubernetes.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string LiveTag = "live";

    /// <summary>The activity source and meter of HttpClient (System.Net.Http).</summary>
    private const string HttpClientInstrumentationName = "System.Net.Http";

    /// <summary>The activity source of ASP.NET Core's hosting, which starts each request's activity.</summary>
    private const string AspNetCoreActivitySourceName = "Microsoft.AspNetCore";

    /// <summary>
    /// Attribute combinations kept per metric stream. The SDK allocates every stream's points up front: at its default
    /// of 2000 that was about 10 MiB per process, a third of the managed heap of a service at rest. The busiest streams
    /// here (consumer lag per topic and partition, request duration per route and status) stay well under a hundred;
    /// past the limit, measurements are still counted, under the attribute otel.metric.overflow.
    /// </summary>
    public const int MetricStreamCardinalityLimit = 200;

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddTrustedProxies();
        // The garbage of start-up goes back to the system once the process has started.
        builder.Services.AddHostedService<StartupMemoryTrim>();

        builder.Services.AddServiceDiscovery();
        builder.Services.AddTransient<ServiceAddressRecorder>();
        builder.Services.AddTransient<RefusedConnectionFailover>();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            // Around service discovery's handler: a replica that refuses the connection hands the call to another (ReplicaFailover).
            http.AddHttpMessageHandler<ServiceAddressRecorder>();
            http.AddServiceDiscovery();
            http.AddHttpMessageHandler<RefusedConnectionFailover>();
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        // ASP.NET Core and HttpClient carry W3C trace context and baggage themselves (DistributedContextPropagator).
        // With OpenTelemetry's default propagator, trace context and baggage, its ASP.NET Core instrumentation parses
        // both headers a second time for every request and writes Baggage.Current, an async-local; nothing in Shop
        // reads OpenTelemetry's baggage. With trace context alone it leaves the request's context as ASP.NET Core set it.
        Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());

        var exported = HasOtlpEndpoint(builder);
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter(HttpClientInstrumentationName, "System.Net.NameResolution")
                .AddRuntimeInstrumentation()
                // librdkafka's statistics, for services that use Kafka through Shop.Confluent.Kafka.
                .AddMeter("Shop.Confluent.Kafka")
                .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = MetricStreamCardinalityLimit }))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddRequestTracing(exported)
                // HttpClient's own activity source: since .NET 9 it names and tags client spans by the HTTP semantic
                // conventions itself. The OpenTelemetry HttpClient instrumentation would add a DiagnosticListener
                // subscriber on top, which boxes a payload per request and writes traceparent a second time.
                .AddSource(HttpClientInstrumentationName)
                .ConfigureSampler(exported));

        builder.AddOpenTelemetryExporters(exported);

        return builder;
    }

    /// <summary>
    /// Where nothing receives spans (no OTLP endpoint: no dashboard, no collector), requests and messages still get
    /// their activities, so the W3C trace context goes on to the services called and through Kafka, and log scopes
    /// still carry its ids; but no span is recorded. Recording spans that are never exported cost the gateway 8 % of
    /// its CPU per proxied request (bench/gateway RESULTS.md, 2026-12-06). The SDK's sampler for root spans and spans
    /// continuing a remote parent, for propagation only, whatever <c>OTEL_TRACES_SAMPLER</c> says.
    /// </summary>
    private static readonly Sampler PropagationOnly = new AlwaysOffSampler();

    /// <summary>With an exporter, the sampler of <c>OTEL_TRACES_SAMPLER</c> (or the SDK's default) decides.</summary>
    private static TracerProviderBuilder ConfigureSampler(this TracerProviderBuilder tracing, bool exported) =>
        exported ? tracing : tracing.SetSampler(PropagationOnly);

    /// <summary>
    /// Exported, a request's span is filled in by OpenTelemetry's ASP.NET Core instrumentation, health probes left out.
    /// Not exported, nothing would read what it adds: listening to ASP.NET Core's activity source is enough to create
    /// the request's activity for propagation, and spares every request the instrumentation's diagnostic-listener
    /// events (about 2 % of the gateway's CPU per proxied request, bench/gateway/RESULTS.md, 2026-12-06).
    /// </summary>
    private static TracerProviderBuilder AddRequestTracing(this TracerProviderBuilder tracing, bool exported) =>
        exported
            ? tracing.AddAspNetCoreInstrumentation(options =>
                // Probes hit these every few seconds; tracing them would drown the real requests.
                options.Filter = context => !IsHealthProbe(context.Request.Path))
            : tracing.AddSource(AspNetCoreActivitySourceName);

    private static bool HasOtlpEndpoint(IHostApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder, bool exported) where TBuilder : IHostApplicationBuilder
    {
        // The exporter reads endpoint, protocol and headers from the OTEL_* variables itself; setting the
        // endpoint in code would make it the full URL and lose the /v1/{signal} paths.
        if (exported)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
            // Log records go to OpenTelemetry only to be exported; the console logger is there either way.
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            });
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check must pass: the process is ready for traffic) and <c>/alive</c>
    /// (only the live-tagged checks: the process should not be restarted). Mapped in every environment,
    /// because orchestrators and Kubernetes probes rely on them; the responses carry only the status word.
    /// Both answer <c>GET</c> and <c>HEAD</c> only: a probe reads, and any other method gets routing's 405 with
    /// <c>Allow</c> (a problem body where the service's status code pages write one), not a 200 that looks as if
    /// it did something.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapHealthChecks(HealthEndpointPath).WithMetadata(HealthProbeMethods);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        }).WithMetadata(HealthProbeMethods);

        return app;
    }

    private static readonly HttpMethodMetadata HealthProbeMethods = new([HttpMethods.Get, HttpMethods.Head]);

    /// <summary>A request to <c>/health</c> or <c>/alive</c>: an orchestrator's probe, not a user's request.</summary>
    public static bool IsHealthProbe(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath);
}
