using System.Diagnostics;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// The AppHost as a user runs it: its own process, output on the terminal. What it leaves behind when it stops —
/// gracefully, or killed outright — is checked by PID.
/// </summary>
public sealed class AppHostProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ctrl_C_stops_every_resource_and_leaves_no_child_process()
    {
        await using var appHost = await RunningAppHost.StartAsync(output);
        var children = appHost.Descendants();
        Assert.Contains(children, pid => ProcessTree.CommandLine(pid).Contains("postgres", StringComparison.Ordinal));
        Assert.Contains(children, pid => ProcessTree.CommandLine(pid).Contains("Gateway.dll", StringComparison.Ordinal));

        appHost.Signal(ProcessTree.SIGINT);

        Assert.True(await appHost.WaitForExitAsync(TimeSpan.FromSeconds(40)), "the AppHost did not stop within 40 s of Ctrl+C");
        Assert.Contains(appHost.Output, line => line.Contains("postgres", StringComparison.Ordinal) && line.Contains("Exited", StringComparison.Ordinal));
        Assert.DoesNotContain(children, ProcessTree.IsAlive);
    }

    [Fact]
    public async Task Killing_the_AppHost_with_SIGKILL_leaves_no_child_process()
    {
        await using var appHost = await RunningAppHost.StartAsync(output);
        var children = appHost.Descendants();
        Assert.True(children.Count >= 8, $"expected every resource's process, found {children.Count}");

        appHost.Signal(ProcessTree.SIGKILL);

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (children.Any(ProcessTree.IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Empty(children.Where(ProcessTree.IsAlive).Select(pid => $"{pid}: {ProcessTree.CommandLine(pid)}"));
    }

    /// <summary>Shop.AppHost started the way `dotnet run` would, on free ports and with its data in a temp directory.</summary>
    private sealed class RunningAppHost : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _dataDirectory;
        private readonly List<string> _output = [];
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private RunningAppHost(Process process, string dataDirectory, ITestOutputHelper testOutput)
        {
            _process = process;
            _dataDirectory = dataDirectory;
            void OnLine(string? line)
            {
                if (line is null)
                {
                    return;
                }

                lock (_output)
                {
                    _output.Add(line);
                }

                try
                {
                    testOutput.WriteLine(line);
                }
                catch (InvalidOperationException)
                {
                }

                if (line.Contains("Ready: ", StringComparison.Ordinal))
                {
                    _ready.TrySetResult();
                }
                else if (line.Contains("Started with problems", StringComparison.Ordinal))
                {
                    _ready.TrySetException(new InvalidOperationException(line));
                }
            }

            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        }

        public IReadOnlyList<string> Output
        {
            get
            {
                lock (_output)
                {
                    return [.. _output];
                }
            }
        }

        public static async Task<RunningAppHost> StartAsync(ITestOutputHelper output)
        {
            var appHostAssembly = new Projects.Shop_AppHost().TargetPath!;
            var dataDirectory = Directory.CreateTempSubdirectory("shop-apphost-").FullName;
            File.SetUnixFileMode(dataDirectory, (UnixFileMode)0b111_101_101);
            var startInfo = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    appHostAssembly,
                    "--AppHost:RandomizePorts=true",
                    $"--AppHost:DataDirectory={dataDirectory}",
                    "--AppHost:Terminal:ShowResourceOutput=false",
                    "--AppHost:DisableDashboard=true",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(appHostAssembly)!,
                Environment = { ["DOTNET_ENVIRONMENT"] = "Development" },
            };
            var process = Process.Start(startInfo)!;
            var appHost = new RunningAppHost(process, dataDirectory, output);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await appHost._ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
            }
            catch
            {
                // The caller never gets the AppHost to dispose: stop it here, or it runs on beside every later test.
                await appHost.DisposeAsync();
                throw;
            }

            return appHost;
        }

        public IReadOnlyList<int> Descendants() => ProcessTree.DescendantsOf(_process.Id);

        public void Signal(int signal) => ProcessTree.Signal(_process.Id, signal);

        public async Task<bool> WaitForExitAsync(TimeSpan timeout)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cancellation.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                foreach (var pid in Descendants().Append(_process.Id))
                {
                    ProcessTree.Signal(pid, ProcessTree.SIGKILL);
                }

                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
