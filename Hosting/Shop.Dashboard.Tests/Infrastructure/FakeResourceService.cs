using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shop.Dashboard.Contracts;

namespace Shop.Dashboard.Tests.Infrastructure;

/// <summary>
/// A stand-in for the AppHost's resource service, for the dashboard's own tests: it implements the wire contract
/// (<see cref="ResourceServiceProtocol"/>) on a loopback port and lets a test change states, write console lines
/// and see which commands arrived.
/// </summary>
public sealed class FakeResourceService : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResourceSnapshot> _resources = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<ConsoleLogLine>> _console = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Channel<ResourceSnapshot>> _watchers = [];
    private readonly List<(string Resource, Channel<ConsoleLogLine> Channel)> _consoleWatchers = [];
    private readonly WebApplication _app;

    private FakeResourceService(WebApplication app, string apiKey)
    {
        _app = app;
        ApiKey = apiKey;
    }

    public string ApiKey { get; }

    public string Url => _app.Urls.First();

    public ConcurrentQueue<(string Resource, string Command)> Commands { get; } = new();

    public static async Task<FakeResourceService> StartAsync(IEnumerable<ResourceSnapshot> resources, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var service = new FakeResourceService(app, Guid.NewGuid().ToString("N"));
        foreach (var resource in resources)
        {
            service._resources[resource.Name] = resource;
            service._console[resource.Name] = [];
        }

        service.Map(app);
        await app.StartAsync(cancellationToken);
        return service;
    }

    public ResourceSnapshot Get(string name)
    {
        lock (_lock)
        {
            return _resources[name];
        }
    }

    public void Update(ResourceSnapshot snapshot)
    {
        lock (_lock)
        {
            _resources[snapshot.Name] = snapshot;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(snapshot);
            }
        }
    }

    public void WriteConsole(string resource, string text, bool isStdErr = false)
    {
        lock (_lock)
        {
            var lines = _console[resource];
            var line = new ConsoleLogLine(lines.Count + 1, DateTimeOffset.UtcNow, text, isStdErr);
            lines.Add(line);
            foreach (var (name, channel) in _consoleWatchers)
            {
                if (string.Equals(name, resource, StringComparison.OrdinalIgnoreCase))
                {
                    channel.Writer.TryWrite(line);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _watchers.ForEach(w => w.Writer.TryComplete());
            _consoleWatchers.ForEach(w => w.Channel.Writer.TryComplete());
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.Request.Headers[ResourceServiceProtocol.ApiKeyHeader] != ApiKey)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            }

            return next(context);
        });

        app.MapGet("api/v1/resources", () =>
        {
            lock (_lock)
            {
                return Results.Json(_resources.Values.ToArray(), ResourceServiceJsonContext.Default.ResourceSnapshotArray);
            }
        });

        app.MapGet("api/v1/resources/watch", async (HttpContext context) =>
        {
            var channel = Channel.CreateUnbounded<ResourceSnapshot>();
            ResourceSnapshot[] current;
            lock (_lock)
            {
                current = [.. _resources.Values];
                _watchers.Add(channel);
            }

            try
            {
                context.Response.ContentType = "text/event-stream";
                foreach (var snapshot in current)
                {
                    await WriteEventAsync(context, JsonSerializer.Serialize(snapshot, ResourceServiceJsonContext.Default.ResourceSnapshot));
                }

                await foreach (var snapshot in channel.Reader.ReadAllAsync(context.RequestAborted))
                {
                    await WriteEventAsync(context, JsonSerializer.Serialize(snapshot, ResourceServiceJsonContext.Default.ResourceSnapshot));
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                lock (_lock)
                {
                    _watchers.Remove(channel);
                }
            }
        });

        app.MapGet("api/v1/resources/{name}/console", async (HttpContext context, string name) =>
        {
            var channel = Channel.CreateUnbounded<ConsoleLogLine>();
            ConsoleLogLine[] backlog;
            lock (_lock)
            {
                if (!_console.TryGetValue(name, out var lines))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }

                backlog = [.. lines];
                _consoleWatchers.Add((name, channel));
            }

            try
            {
                context.Response.ContentType = "text/event-stream";
                foreach (var line in backlog)
                {
                    await WriteEventAsync(context, JsonSerializer.Serialize(line, ResourceServiceJsonContext.Default.ConsoleLogLine));
                }

                await context.Response.Body.FlushAsync(context.RequestAborted);
                await foreach (var line in channel.Reader.ReadAllAsync(context.RequestAborted))
                {
                    await WriteEventAsync(context, JsonSerializer.Serialize(line, ResourceServiceJsonContext.Default.ConsoleLogLine));
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                lock (_lock)
                {
                    _consoleWatchers.RemoveAll(w => w.Channel == channel);
                }
            }
        });

        app.MapPost("api/v1/resources/{name}/commands/{command}", (string name, string command) =>
        {
            ResourceSnapshot? resource;
            lock (_lock)
            {
                resource = _resources.GetValueOrDefault(name);
            }

            if (resource is null)
            {
                return Results.NotFound();
            }

            if (!resource.Commands.Contains(command))
            {
                return Results.Conflict();
            }

            Commands.Enqueue((name, command));
            if (command == ResourceCommands.Restart)
            {
                _ = RestartAsync(resource);
            }

            return Results.Accepted();
        });
    }

    private async Task RestartAsync(ResourceSnapshot resource)
    {
        Update(resource with { State = KnownResourceStates.Stopping });
        await Task.Delay(200);
        Update(resource with { State = KnownResourceStates.Starting, HealthStatus = null });
        await Task.Delay(200);
        Update(resource with { State = KnownResourceStates.Running, HealthStatus = "Healthy", StartedAt = DateTimeOffset.UtcNow, ProcessId = resource.ProcessId + 1 });
    }

    private static async Task WriteEventAsync(HttpContext context, string json)
    {
        await context.Response.WriteAsync($"data: {json}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
