using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Shop.Tests;

/// <summary>
/// A second whole Shop, set up unlike the first where a test needs it: access tokens live 30 seconds, less than the
/// storefront's one-minute refresh margin, so every storefront request renews the session's tokens; products runs as
/// two replicas behind the gateway; and an order waits 5 seconds for a failing card gateway before it is cancelled.
/// Only the tests of its collection use it.
/// </summary>
public sealed class SecondShopFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(30);

    public const int ProductsReplicas = 2;

    /// <summary>How long an order waits for a failing card gateway here (ten minutes by default).</summary>
    public static readonly TimeSpan ChargeDeadline = TimeSpan.FromSeconds(5);

    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    public ITestOutputHelper? Output { get; set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
            [
                $"--Parameters:identity-access-token-lifetime={AccessTokenLifetime:c}",
                $"--Parameters:payment-charge-deadline={ChargeDeadline:c}",
                $"--Replicas:products={ProductsReplicas}",
            ], timeout.Token);
        appHost.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(WriteLine, LogLevel.Warning)));
        _app = await appHost.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        foreach (var name in new[] { "identity", "products", "gateway", "web" })
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
public sealed class SecondShopCollection : ICollectionFixture<SecondShopFixture>
{
    public const string Name = "A second Shop: short-lived tokens, two products replicas";
}
