using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Shop.Tests.Identity;

/// <summary>
/// A second whole Shop whose access tokens live 30 seconds: less than the storefront's one-minute refresh margin,
/// so every storefront request renews the session's tokens. Only tests that need short tokens use it.
/// </summary>
public sealed class ShortLivedTokensFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(30);

    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    public ITestOutputHelper? Output { get; set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
            [$"--Parameters:identity-access-token-lifetime={AccessTokenLifetime:c}"], timeout.Token);
        appHost.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(WriteLine, LogLevel.Warning)));
        _app = await appHost.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        foreach (var name in new[] { "identity", "gateway", "web" })
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

[CollectionDefinition(Name)]
public sealed class ShortLivedTokensCollection : ICollectionFixture<ShortLivedTokensFixture>
{
    public const string Name = "Shop app with short-lived tokens";
}
