using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting;

/// <summary>A running (or runnable) app model: the entry point of every AppHost.</summary>
public sealed class DistributedApplication : IHost, IAsyncDisposable
{
    private readonly IHost _host;
    private int _disposed;

    internal DistributedApplication(IHost host) => _host = host;

    public static IDistributedApplicationBuilder CreateBuilder(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return CreateBuilder(new DistributedApplicationOptions { Args = args });
    }

    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        DistributedApplicationTestingHook.ApplyTo(options);
        if (!options.IsTesting)
        {
            // A mistake found while the AppHost's Program builds its model (a bad --Replicas:…), before Build and Run
            // can report it, ends in one line too.
            AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            {
                if (e.ExceptionObject is DistributedApplicationException ex)
                {
                    ConsoleReporter.WriteFatal(ex.Message);
                    Environment.Exit(1);
                }
            };
        }

        return new DistributedApplicationBuilder(options);
    }

    public IServiceProvider Services => _host.Services;

    /// <summary>Resource states: wait for a resource to be healthy, watch changes.</summary>
    public ResourceNotificationService ResourceNotifications => Services.GetRequiredService<ResourceNotificationService>();

    /// <summary>Start, stop or restart one resource.</summary>
    public ResourceCommandService ResourceCommands => Services.GetRequiredService<ResourceCommandService>();

    /// <summary>Starts every resource in dependency order; returns once they are launched, not once they are healthy.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _host.StartAsync(cancellationToken);

    /// <summary>Stops every resource in reverse dependency order, killing what does not stop in time.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _host.StopAsync(cancellationToken);

    /// <summary>Runs until Ctrl+C, SIGTERM or SIGHUP; in publish mode (<c>--publisher kubernetes</c>) writes the manifests instead.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        // Taken now: the app is disposed by the time an error is reported.
        var executionContext = Services.GetRequiredService<DistributedApplicationExecutionContext>();
        var lifetime = Services.GetRequiredService<IHostApplicationLifetime>();
        try
        {
            if (executionContext.IsPublishMode)
            {
                await PublishAsync(cancellationToken);
                return;
            }

            // A closed terminal (SIGHUP) stops the app gracefully, as Ctrl-C and SIGTERM do, instead of ending it at once.
            using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                lifetime.StopApplication();
            });
            try
            {
                await _host.StartAsync(cancellationToken);
                await _host.WaitForShutdownAsync(cancellationToken);
            }
            finally
            {
                // As IHost's RunAsync does, but through this app's own disposal, which stops whatever a start-up cut
                // short got running and leaves the app safe to dispose again.
                await DisposeAsync();
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Ctrl-C while the host was still starting: what had started is stopped, as after any Ctrl-C.
        }
        catch (DistributedApplicationException ex) when (!executionContext.IsTesting)
        {
            ConsoleReporter.WriteFatal(ex.Message);
            Environment.ExitCode = 1;
        }
    }

    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Writes the app model as deployment manifests (the publisher named by <c>--publisher</c>).</summary>
    public async Task<IReadOnlyList<string>> PublishAsync(CancellationToken cancellationToken = default)
    {
        var publisher = Services.GetService<Publishing.KubernetesPublisher>()
            ?? throw new DistributedApplicationException("This app was built to run, not to publish: pass --publisher kubernetes --output-path DIR.");
        try
        {
            return await publisher.PublishAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DistributedApplicationException(
                $"The manifests cannot be written to --output-path {Services.GetRequiredService<IConfiguration>()[KnownConfigNames.PublishOutputPath]}: {ex.Message}");
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Disposing without stopping would leave the orchestrator's processes to the parent-death signal alone.
        if (Services.GetService<ApplicationOrchestrator>() is { } orchestrator)
        {
            await orchestrator.StopAllAsync(CancellationToken.None);
        }
        if (_host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }
    }
}
