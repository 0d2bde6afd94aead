using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Shop.Dashboard.Tests.Infrastructure;

/// <summary>
/// A stand-in for an instrumented service: the real OpenTelemetry .NET SDK and OTLP exporter, configured as a
/// service under the AppHost would be, exporting to the dashboard under test.
/// </summary>
public sealed class OtelSender : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly TracerProvider _tracerProvider;
    private readonly MeterProvider _meterProvider;
    private readonly LoggerProvider _loggerProvider;
    private readonly ILoggerFactory _loggerFactory;

    public OtelSender(DashboardProcess dashboard, OtlpExportProtocol protocol, string serviceName, string? apiKey = null)
    {
        ServiceName = serviceName;
        Source = new ActivitySource(serviceName);
        Meter = new Meter(serviceName);
        var key = apiKey ?? dashboard.OtlpApiKey;

        void Configure(OtlpExporterOptions options, string signalPath)
        {
            options.Protocol = protocol;

            // In code the endpoint is the full URL for HTTP/protobuf (the /v1/... suffix is only added for the env variable).
            options.Endpoint = protocol == OtlpExportProtocol.Grpc ? dashboard.OtlpGrpcUrl : new Uri(dashboard.OtlpHttpUrl, signalPath);
            if (key is not null)
            {
                options.Headers = $"x-otlp-api-key={key}";
            }
        }

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace));
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.Clear().AddService(serviceName, serviceInstanceId: $"{serviceName}-instance"))
            .WithTracing(tracing => tracing
                .AddSource(serviceName)
                .SetSampler(new AlwaysOnSampler())
                .AddOtlpExporter(o => Configure(o, "v1/traces")))
            .WithMetrics(metrics => metrics
                .AddMeter(serviceName)
                .AddOtlpExporter((o, reader) =>
                {
                    Configure(o, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000;
                }))
            .WithLogging(logging => logging.AddOtlpExporter(o => Configure(o, "v1/logs")), options => options.IncludeFormattedMessage = true);
        _services = services.BuildServiceProvider();
        _tracerProvider = _services.GetRequiredService<TracerProvider>();
        _meterProvider = _services.GetRequiredService<MeterProvider>();
        _loggerProvider = _services.GetRequiredService<LoggerProvider>();
        _loggerFactory = _services.GetRequiredService<ILoggerFactory>();
    }

    public string ServiceName { get; }

    public ActivitySource Source { get; }

    public Meter Meter { get; }

    public ILogger CreateLogger(string category) => _loggerFactory.CreateLogger(category);

    /// <summary>Exports everything recorded so far; returns whether every exporter succeeded.</summary>
    public bool Flush()
    {
        var traces = _tracerProvider.ForceFlush(10_000);
        var metrics = _meterProvider.ForceFlush(10_000);
        var logs = _loggerProvider.ForceFlush(10_000);
        return traces && metrics && logs;
    }

    public void Dispose()
    {
        _services.Dispose();
        Source.Dispose();
        Meter.Dispose();
    }
}
