using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.ResourceService;

/// <summary>
/// Follows the resource service's watch stream for as long as the dashboard runs, reconnecting with exponential
/// backoff (capped, with jitter) whenever the stream fails or ends, e.g. while the AppHost restarts.
/// </summary>
public sealed class ResourceWatcher(
    IOptions<DashboardOptions> options,
    IServiceProvider services,
    ResourceStateStore store,
    TimeProvider timeProvider,
    ILogger<ResourceWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan InitialDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.ResourceServiceUrl))
        {
            return;
        }

        var client = services.GetRequiredService<ResourceServiceClient>();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            store.SetConnection(ResourceServiceConnection.Connecting);
            try
            {
                await foreach (var snapshot in client.WatchResourcesAsync(stoppingToken))
                {
                    store.SetConnection(ResourceServiceConnection.Connected);
                    failures = 0;
                    store.Apply(snapshot);
                }

                logger.LogInformation("The resource service closed the watch stream; reconnecting");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or System.Text.Json.JsonException or OperationCanceledException)
            {
                logger.Log(failures == 0 ? LogLevel.Warning : LogLevel.Debug, ex, "Resource service watch failed; retrying");
            }

            store.SetConnection(ResourceServiceConnection.Disconnected);
            var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, InitialDelay.Ticks << Math.Min(failures, 10)));
            delay += TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250));
            failures++;
            try
            {
                await Task.Delay(delay, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
