using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Dashboard.Contracts;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Dashboard;

/// <summary>
/// The AppHost's resource service (see <see cref="ResourceServiceProtocol"/>): resource states, console logs and
/// commands over HTTP/JSON on loopback, for the dashboard. Every request must carry the API key.
/// </summary>
internal sealed class ResourceServiceHost(
    DashboardOptions options,
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    ResourceCommandService commands,
    ILogger<ResourceServiceHost> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public string? Url { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (!CryptographicEquals(context.Request.Headers[ResourceServiceProtocol.ApiKeyHeader].ToString(), options.ResourceServiceApiKey))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });

        app.MapGet("/api/v1/resources", () => Results.Json(notifications.GetCurrentSnapshots().Select(ToContract).ToArray(), ResourceServiceJsonContext.Default.ResourceSnapshotArray));
        app.MapGet("/api/v1/resources/watch", WatchResourcesAsync);
        app.MapGet("/api/v1/resources/{name}/console", WatchConsoleAsync);
        app.MapPost("/api/v1/resources/{name}/commands/{command}", ExecuteCommand);

        await app.StartAsync(cancellationToken);
        _app = app;
        Url = app.Urls.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/";
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private async Task WatchResourcesAsync(HttpContext context)
    {
        StartEventStream(context);
        await foreach (var resourceEvent in notifications.WatchAsync(context.RequestAborted).WithCancellation(context.RequestAborted))
        {
            await WriteEventAsync(context, JsonSerializer.Serialize(ToContract(resourceEvent), ResourceServiceJsonContext.Default.ResourceSnapshot));
        }
    }

    private async Task WatchConsoleAsync(HttpContext context, string name, bool follow = false)
    {
        if (!commands.Exists(name))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        StartEventStream(context);
        if (!follow)
        {
            foreach (var line in logs.GetBacklog(name))
            {
                await WriteEventAsync(context, JsonSerializer.Serialize(line, ResourceServiceJsonContext.Default.ConsoleLogLine));
            }

            return;
        }

        await foreach (var line in logs.WatchAsync(name, context.RequestAborted))
        {
            await WriteEventAsync(context, JsonSerializer.Serialize(line, ResourceServiceJsonContext.Default.ConsoleLogLine));
        }
    }

    private IResult ExecuteCommand(string name, string command)
    {
        if (!commands.Exists(name))
        {
            return Results.Problem($"There is no resource named '{name}'.", statusCode: StatusCodes.Status404NotFound);
        }

        if (command is not (ResourceCommands.Start or ResourceCommands.Stop or ResourceCommands.Restart))
        {
            return Results.Problem($"Unknown command '{command}'.", statusCode: StatusCodes.Status409Conflict);
        }

        // Accepted at once: a restart takes seconds, and the dashboard follows it through the watch stream.
        _ = Task.Run(async () =>
        {
            try
            {
                await commands.ExecuteCommandAsync(name, command);
            }
            catch (Exception ex)
            {
                logger.LogWarning("The dashboard's {Command} of '{Resource}' failed: {Message}", command, name, ex.Message);
            }
        });
        return Results.Accepted();
    }

    private static void StartEventStream(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
    }

    private static async Task WriteEventAsync(HttpContext context, string json)
    {
        await context.Response.WriteAsync($"data: {json}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static bool CryptographicEquals(string presented, string expected) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(presented), System.Text.Encoding.UTF8.GetBytes(expected));

    private static ResourceSnapshot ToContract(ResourceEvent resourceEvent)
    {
        var snapshot = resourceEvent.Snapshot;
        var runs = resourceEvent.Resource.Annotations.OfType<ProcessLaunchAnnotation>().Any()
            || resourceEvent.Resource.Annotations.OfType<InitializeAnnotation>().Any();
        return new ResourceSnapshot(
            resourceEvent.ResourceId,
            resourceEvent.Resource.Name,
            snapshot.ResourceType,
            snapshot.State,
            snapshot.HealthStatus switch
            {
                HealthStatus.Healthy => "Healthy",
                HealthStatus.Unhealthy or HealthStatus.Degraded => "Unhealthy",
                _ => null,
            },
            snapshot.StartTimeStamp,
            snapshot.StopTimeStamp,
            snapshot.ExitCode,
            snapshot.ProcessId,
            [.. snapshot.Urls.Select(u => new ResourceEndpoint(u.Name, u.Url, u.IsExternal))],
            [.. snapshot.EnvironmentVariables.Select(e => new ResourceEnvironmentVariable(e.Name, e.Value, e.IsSecret))],
            [.. snapshot.References],
            runs ? [ResourceCommands.Start, ResourceCommands.Stop, ResourceCommands.Restart] : []);
    }
}
