using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Shop.Dashboard.Contracts;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Dashboard;

/// <summary>
/// Runs the dashboard (Hosting/Shop.Dashboard) beside the resources: started before them so their first telemetry
/// has somewhere to go, stopped after them so their last telemetry arrives. It is not a resource of the model, as
/// in Aspire; its own output is kept and shown only if it fails.
/// </summary>
internal sealed class DashboardLauncher(
    DashboardOptions options,
    ResourceServiceHost resourceService,
    IConfiguration configuration,
    IHostEnvironment environment,
    DataDirectories directories,
    ProcessRegistry registry,
    ConsoleReporter reporter) : IHostedService
{
    private const string ResourceId = "dashboard";
    private readonly Queue<string> _lastOutput = new();
    private ManagedProcess? _process;
    private volatile bool _stopping;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string dashboard;
        try
        {
            dashboard = HostingTools.Resolve(configuration, environment.ApplicationName, HostingTools.Dashboard);
        }
        catch (DistributedApplicationException ex)
        {
            reporter.Announce([$"The dashboard is not available: {ex.Message}"]);
            return;
        }

        Dictionary<string, string> variables = new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_URLS"] = options.FrontendUrl,
            ["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"] = options.OtlpGrpcUrl,
            ["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = options.OtlpHttpUrl,
            ["Dashboard__Otlp__AuthMode"] = "ApiKey",
            ["Dashboard__Otlp__PrimaryApiKey"] = options.OtlpApiKey,
            [ResourceServiceProtocol.UrlVariable] = resourceService.Url!,
            [ResourceServiceProtocol.ApiKeyVariable] = options.ResourceServiceApiKey,
            ["Dashboard__ParentProcessId"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        if (options.Unsecured)
        {
            variables["Dashboard__Frontend__AuthMode"] = "Unsecured";
        }
        else
        {
            // Explicit, so the dashboard's allow-anonymous switch cannot turn sign-in off.
            variables["Dashboard__Frontend__AuthMode"] = "BrowserToken";
            variables["Dashboard__Frontend__BrowserToken"] = options.BrowserToken;
        }

        if (options.PersistTelemetry)
        {
            variables["Dashboard__Persistence__Path"] = Path.Combine(directories.PersistentRoot, ".dashboard");
        }

        registry.CleanLeftovers();
        _process = await ProcessSpawner.StartAsync(
            new ProcessSpec("dotnet")
            {
                Arguments = [dashboard],
                WorkingDirectory = Path.GetDirectoryName(dashboard),
                Environment = variables,
                RemoveEnvironment = InheritedEnvironment.ContractVariables(),
            },
            (line, _) =>
            {
                lock (_lastOutput)
                {
                    _lastOutput.Enqueue(line);
                    if (_lastOutput.Count > 20)
                    {
                        _lastOutput.Dequeue();
                    }
                }
            });
        registry.Add(ResourceId, _process);
        reporter.AddEntryPoint(ResourceId, options.LoginUrl);
        _ = WatchExitAsync(_process);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        if (_process is { } process)
        {
            await process.StopAsync(TimeSpan.FromSeconds(5));
            registry.Remove(process);
        }
    }

    private async Task WatchExitAsync(ManagedProcess process)
    {
        var exitCode = await process.Exited;
        if (_stopping)
        {
            return;
        }

        string[] lastLines;
        lock (_lastOutput)
        {
            lastLines = [.. _lastOutput];
        }

        reporter.Announce([$"The dashboard exited with code {exitCode}; the resources keep running. Its last output:", .. lastLines.Select(l => $"  {l}")]);
    }
}
