using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    private readonly Queue<string> _lastProblems = new();
    private readonly OutputLevelReader _stdoutLevels = new();
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
            // Logs and traces name users and orders: the owner's only, as the servers' data directories.
            var telemetry = Path.Combine(directories.PersistentRoot, ".dashboard");
            DataDirectories.CreatePrivateDirectory(telemetry);
            variables["Dashboard__Persistence__Path"] = telemetry;
        }

        _process = await ProcessSpawner.StartAsync(
            new ProcessSpec("dotnet")
            {
                Arguments = [dashboard],
                WorkingDirectory = Path.GetDirectoryName(dashboard),
                Environment = variables,
                RemoveEnvironment = InheritedEnvironment.ContractVariables(),
            },
            (line, isStdErr) =>
            {
                lock (_lastOutput)
                {
                    Keep(_lastOutput, line, 20);
                    // Its warnings and errors are kept apart: start-up information would push them out, and a
                    // dashboard killed later leaves start-up information as its last output. More of them, so that a
                    // crash's message survives its stack trace.
                    if (isStdErr || _stdoutLevels.LevelOf(line) >= LogLevel.Warning)
                    {
                        Keep(_lastProblems, line, 200);
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
        string[] problems;
        lock (_lastOutput)
        {
            lastLines = [.. _lastOutput];
            problems = [.. _lastProblems];
        }

        // A Ready line still to come must not advertise it.
        reporter.EntryPointFailed(ResourceId, $"not available: it exited with code {exitCode} (its output is above)");
        var exited = $"The dashboard exited with code {exitCode}; the resources keep running.";
        reporter.Announce(
            problems.Length > 0 ? [$"{exited} Its last warnings and errors:", .. ConsoleReporter.OutputToShowOnFailure(problems).Select(l => $"  {l}")]
            : exitCode > 128 ? [$"{exited} It was killed by signal {exitCode - 128}; its output has no warnings or errors."]
            : [$"{exited} Its last output:", .. lastLines.Select(l => $"  {l}")]);
    }

    private static void Keep(Queue<string> lines, string line, int count)
    {
        lines.Enqueue(line);
        if (lines.Count > count)
        {
            lines.Dequeue();
        }
    }
}
