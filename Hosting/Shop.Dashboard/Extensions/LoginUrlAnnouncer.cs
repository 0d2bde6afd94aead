using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Extensions;

/// <summary>
/// Prints where the dashboard is once it listens. The login URL carries the browser token, a secret: it goes to
/// the console logger only (the dashboard exports no telemetry of its own).
/// </summary>
internal sealed class LoginUrlAnnouncer(
    IHostApplicationLifetime lifetime,
    DashboardEndpoints endpoints,
    IOptions<DashboardOptions> options,
    ILogger<LoginUrlAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var dashboard = options.Value;
            logger.LogInformation(
                "OTLP/gRPC receiver at {GrpcUrl}, OTLP/HTTP receiver at {HttpUrl} (API key {OtlpAuth})",
                endpoints.OtlpGrpc, endpoints.OtlpHttp, dashboard.Otlp.AuthMode == OtlpAuthMode.ApiKey ? "required" : "not required");
            if (dashboard.Frontend.AuthMode == FrontendAuthMode.BrowserToken)
            {
                logger.LogInformation("Login to the dashboard at {LoginUrl}", $"{endpoints.BrowserUrl}/login?t={dashboard.Frontend.BrowserToken}");
            }
            else
            {
                logger.LogWarning("The dashboard frontend is unsecured: anyone who can reach {Url} can see its telemetry", endpoints.BrowserUrl);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
