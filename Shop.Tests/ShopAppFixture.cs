using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Shop.Tests;

/// <summary>One whole Shop, started through the AppHost's own Program, shared by the tests of a collection.</summary>
public sealed class ShopAppFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    /// <summary>Every resource of Shop.AppHost; each must reach Healthy.</summary>
    public static readonly string[] ResourceNames =
        ["postgres", "identitydb", "productsdb", "orderingdb", "paymentdb", "cache", "kafka", "identity", "products", "ordering", "payment", "payment-gateway", "gateway", "web"];

    /// <summary>AppHost parameters this fixture sets, each unlike its default.</summary>
    public static readonly IReadOnlyDictionary<string, string> TestParameters = new Dictionary<string, string>
    {
        ["gateway-rate-limit"] = "150",
        ["gateway-rate-limit-anonymous"] = "500",
        ["gateway-rate-limit-window-seconds"] = "8",
        ["identity-lockout-attempts"] = "4",
        ["payment-gateway-latency-ms"] = "20",
    };

    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app has not started.");

    /// <summary>Where the current test's output goes; the app's logs follow it.</summary>
    public ITestOutputHelper? Output { get; set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // With the dashboard, as in run mode: every service exports its telemetry to it. The limits differ from the
        // AppHost's defaults, which are also the services' own: the tests that read them (rate limits, lockout, the
        // payment gateway's latency) then fail if a parameter stops reaching its service.
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
            ["--AppHost:DisableDashboard=false", .. TestParameters.Select(p => $"--Parameters:{p.Key}={p.Value}")], timeout.Token);
        appHost.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(WriteLine, LogLevel.Warning)));
        _app = await appHost.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        foreach (var name in ResourceNames)
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
public sealed class ShopAppCollection : ICollectionFixture<ShopAppFixture>
{
    public const string Name = "Shop app";
}
