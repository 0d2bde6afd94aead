using LedgerService;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting.Testing;

namespace Shop.EventBus.Tests;

/// <summary>The ledger service hosted in the test process on a real port, as one replica of a service.</summary>
internal sealed class LedgerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _started;

    private LedgerHost(WebApplication app, LedgerProbe probe)
    {
        _app = app;
        Probe = probe;
    }

    public LedgerProbe Probe { get; }

    public IServiceProvider Services => _app.Services;

    public HttpClient Http { get; private set; } = new();

    /// <summary>Builds the host without starting it: its context can write to the outbox, nothing publishes.</summary>
    public static LedgerHost Build(
        LedgerSetup setup,
        string name = "ledger",
        Action<EventBusOptions>? configure = null,
        Action<IServiceCollection>? configureServices = null,
        params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ApplicationName = "LedgerService" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{LedgerExtensions.DatabaseConnectionName}"] = setup.ConnectionString,
            ["ConnectionStrings:kafka"] = setup.BootstrapServers,
            ["EventBus:TopicPrefix"] = setup.TopicPrefix,
            ["EventBus:GroupId"] = setup.GroupId,
            ["EventBus:RelayPollInterval"] = "00:00:00.500",
            ["EventBus:RetryDelay"] = "00:00:00.050",
            ["EventBus:MaxRetryDelay"] = "00:00:00.200",
            ["EventBus:MaxDeliveryAttempts"] = "3",
            ["Kafka:Producer:DisableMetrics"] = "true",
            ["Kafka:Consumer:DisableMetrics"] = "true",
        });
        builder.Configuration.AddInMemoryCollection(setup.KafkaClientSettings());
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(line => setup.Output.WriteLine($"[{name}] {line}")));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Shop.EventBus", LogLevel.Debug);

        var probe = new LedgerProbe { Name = name };
        builder.Services.AddSingleton(probe);
        builder.AddLedger(configure);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapDeadLetterApi();
        return new LedgerHost(app, probe);
    }

    public static async Task<LedgerHost> StartAsync(
        LedgerSetup setup,
        string name = "ledger",
        Action<EventBusOptions>? configure = null,
        Action<IServiceCollection>? configureServices = null,
        params (string Key, string Value)[] settings)
    {
        var host = Build(setup, name, configure, configureServices, settings);
        await host.StartAsync();
        return host;
    }

    public async Task StartAsync()
    {
        await _app.StartAsync(Eventually.Timeout(30));
        _started = true;
        var address = _app.Urls.First();
        Http = new HttpClient { BaseAddress = new Uri(address) };
    }

    /// <summary>Places orders through the service's own (pooled, intercepted) context, as an endpoint would.</summary>
    public async Task<List<OrderPlacedIntegrationEvent>> PlaceOrdersAsync(int count, int accounts = 1, string accountPrefix = "account-", int perTransaction = 1)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LedgerContext>();
        return await db.PlaceOrdersAsync(count, accounts, accountPrefix, perTransaction);
    }

    public async Task WithContextAsync(Func<LedgerContext, Task> action)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<LedgerContext>());
    }

    public async Task StopAsync()
    {
        if (_started)
        {
            _started = false;
            await _app.StopAsync(Eventually.Timeout(30));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
