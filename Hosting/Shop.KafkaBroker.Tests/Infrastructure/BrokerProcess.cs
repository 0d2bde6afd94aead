using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>
/// The real broker as a child process on a free port with its own data directory. Restarts keep the port
/// and the data; <see cref="DisposeAsync"/> kills the process and deletes the directory.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string[] _extraArgs;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private readonly IReadOnlyDictionary<string, string> _environment;

    private BrokerProcess(string dataDir, string[] extraArgs, IReadOnlyDictionary<string, string> environment)
    {
        DataDir = dataDir;
        _extraArgs = extraArgs;
        _environment = environment;
    }

    public string DataDir { get; }

    public int Port { get; private set; }

    public string BootstrapServers => $"127.0.0.1:{Port}";

    public bool HasExited => _process is null || _process.HasExited;

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

    public static Task<BrokerProcess> StartAsync(params string[] extraArgs) => StartAsync(new Dictionary<string, string>(), extraArgs);

    public static async Task<BrokerProcess> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "shop-kafka-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var broker = new BrokerProcess(dataDir, extraArgs, environment);
        await broker.LaunchAsync(port: 0);
        return broker;
    }

    /// <summary>Runs the broker executable with arbitrary arguments and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string StdOut, string StdErr)> RunToExitAsync(params string[] args) =>
        RunToExitAsync(new Dictionary<string, string>(), args);

    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunToExitAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Process.Start(CreateStartInfo(args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo CreateStartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Shop.KafkaBroker.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return info;
    }

    private async Task LaunchAsync(int port)
    {
        string[] args = ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data-dir", DataDir, .. _extraArgs];
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = CreateStartInfo(args, _environment), EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, listening);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, null);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"Broker exited early:\n{Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Port = await listening.Task.WaitAsync(StartTimeout);
    }

    private void OnLine(string? line, TaskCompletionSource<int>? listening)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        const string marker = "Kafka broker listening on ";
        if (listening is not null && line.StartsWith(marker, StringComparison.Ordinal))
        {
            listening.TrySetResult(int.Parse(line[(line.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>SIGTERM and wait: the broker shuts down gracefully.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            _ = Kill(process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
        }
    }

    /// <summary>SIGKILL: no chance to flush or close anything.</summary>
    public async Task CrashAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the broker again on the same port with the same data.</summary>
    public Task RestartAsync() => LaunchAsync(Port);

    public async ValueTask DisposeAsync()
    {
        await CrashAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
