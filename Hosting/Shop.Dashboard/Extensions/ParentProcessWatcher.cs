using System.Diagnostics;
using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Extensions;

/// <summary>
/// Stops the dashboard when the process that started it (the AppHost) exits, so a crashed AppHost does not leave an
/// orphaned dashboard holding its ports. Off unless <see cref="DashboardOptions.ParentProcessId"/> is set.
/// </summary>
internal sealed class ParentProcessWatcher(
    IOptions<DashboardOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ParentProcessWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ParentProcessId is not { } pid)
        {
            return;
        }

        try
        {
            using var parent = Process.GetProcessById(pid);
            await parent.WaitForExitAsync(stoppingToken);
        }
        catch (ArgumentException)
        {
            // Already gone before the dashboard started watching.
        }
        catch (OperationCanceledException)
        {
            return;
        }

        logger.LogInformation("Parent process {ProcessId} exited; stopping the dashboard", pid);
        lifetime.StopApplication();
    }
}
