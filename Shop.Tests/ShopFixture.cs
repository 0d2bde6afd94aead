using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Shop.Tests;

/// <summary>
/// A whole Shop, started through the AppHost's own Program with <paramref name="arguments"/>, shared by the tests of a
/// collection; ready once each of <paramref name="awaited"/> is healthy. The app's warnings go to the current test's
/// output.
/// </summary>
public abstract class ShopFixture(IMessageSink diagnostics, string[] arguments, string[] awaited) : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    /// <summary>Where the current test's output goes; the app's logs follow it.</summary>
    public ITestOutputHelper? Output { get; set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(arguments, timeout.Token);
        appHost.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(WriteLine, LogLevel.Warning)));
        _app = await appHost.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        foreach (var name in awaited)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private void WriteLine(string line)
    {
        if (Output is { } output)
        {
            output.WriteLine(line);
        }
        else
        {
            diagnostics.OnMessage(new DiagnosticMessage(line));
        }
    }
}

internal static class ResourceRecovery
{
    /// <summary>
    /// Starts the resource again if a test stopped or killed it (starting a running one does nothing) and waits until
    /// it is healthy, so that the tests after this one have it back whatever failed.
    /// </summary>
    public static async Task EnsureRunningAsync(this DistributedApplication app, string resource)
    {
        await app.ResourceCommands.StartAsync(resource, CancellationToken.None);
        using var restart = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, restart.Token);
    }
}
