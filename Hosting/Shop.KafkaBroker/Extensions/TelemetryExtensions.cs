using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using Shop.KafkaBroker.Telemetry;

namespace Shop.KafkaBroker.Extensions;

public static class TelemetryExtensions
{
    /// <summary>
    /// Exports logs and metrics over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, like every Shop
    /// process (the endpoint, headers, service name and intervals come from the standard OTEL_* variables).
    /// </summary>
    public static IHostApplicationBuilder AddBrokerTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });

        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(BrokerMetrics.MeterName))
            .UseOtlpExporter();
        return builder;
    }
}
