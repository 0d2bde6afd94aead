using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Shop.Dashboard.Tests.Infrastructure;

/// <summary>
/// The built dashboard started as a child process on free loopback ports, as the AppHost (or a user) starts it.
/// Disposing kills the process tree.
/// </summary>
public sealed partial class DashboardProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _loginUrl = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DashboardProcess(Process process, int frontendPort, int grpcPort, int httpPort, string? browserToken, string? otlpApiKey)
    {
        _process = process;
        FrontendUrl = new Uri($"http://127.0.0.1:{frontendPort}");
        OtlpGrpcUrl = new Uri($"http://127.0.0.1:{grpcPort}");
        OtlpHttpUrl = new Uri($"http://127.0.0.1:{httpPort}");
        BrowserToken = browserToken;
        OtlpApiKey = otlpApiKey;
    }

    public Uri FrontendUrl { get; }

    public Uri OtlpGrpcUrl { get; }

    public Uri OtlpHttpUrl { get; }

    public string? BrowserToken { get; }

    public string? OtlpApiKey { get; }

    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string DashboardDirectory =>
        typeof(DashboardProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DashboardDirectory").Value!;

    /// <param name="settings">Extra environment variables (configuration keys in <c>__</c> form).</param>
    public static async Task<DashboardProcess> StartAsync(
        IDictionary<string, string>? settings = null, bool secured = true, CancellationToken cancellationToken = default)
    {
        var ports = FreePorts(3);
        var browserToken = secured ? Convert.ToHexString(Guid.NewGuid().ToByteArray()) : null;
        var otlpApiKey = secured ? Convert.ToHexString(Guid.NewGuid().ToByteArray()) : null;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(DashboardDirectory, "Shop.Dashboard.dll")])
        {
            WorkingDirectory = DashboardDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[0]}";
        start.Environment["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{ports[1]}";
        start.Environment["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://127.0.0.1:{ports[2]}";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        if (secured)
        {
            start.Environment["Dashboard__Frontend__AuthMode"] = "BrowserToken";
            start.Environment["Dashboard__Frontend__BrowserToken"] = browserToken;
            start.Environment["Dashboard__Otlp__AuthMode"] = "ApiKey";
            start.Environment["Dashboard__Otlp__PrimaryApiKey"] = otlpApiKey;
        }
        else
        {
            start.Environment["Dashboard__Frontend__AuthMode"] = "Unsecured";
            start.Environment["Dashboard__Otlp__AuthMode"] = "Unsecured";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the dashboard.");
        var dashboard = new DashboardProcess(process, ports[0], ports[1], ports[2], browserToken, otlpApiKey);
        process.OutputDataReceived += (_, e) => dashboard.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => dashboard.OnOutput(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => dashboard._started.TrySetException(new InvalidOperationException("The dashboard exited during start."));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await dashboard._started.Task.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            await dashboard.DisposeAsync();
            throw new InvalidOperationException($"The dashboard did not start ({ex.Message}). Output:\n{dashboard.Output}");
        }

        return dashboard;
    }

    /// <summary>The login URL the dashboard logged at start.</summary>
    public Task<string> LoginUrl => _loginUrl.Task;

    public HttpClient CreateApiClient(bool authenticated = true)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = FrontendUrl };
        if (authenticated && BrowserToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BrowserToken);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Stops the dashboard the way Ctrl+C does, so it shuts down gracefully.</summary>
    public async Task StopGracefullyAsync(CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await _process.WaitForExitAsync(cancellationToken);
    }

    public bool HasExited => _process.HasExited;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public long WorkingSetBytes()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (LoginUrlPattern().Match(line) is { Success: true } match)
        {
            _loginUrl.TrySetResult(match.Groups[1].Value);
        }

        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    [GeneratedRegex(@"Login to the dashboard at (\S+)")]
    private static partial Regex LoginUrlPattern();
}
