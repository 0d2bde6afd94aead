using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Orchestration;

/// <summary>
/// Starts child processes so that none outlives the AppHost, even when the AppHost is killed with SIGKILL:
/// each child gets a parent-death signal (<c>setpriv --pdeathsig KILL</c>) and its own session (<c>setsid</c>),
/// so terminal signals reach only the AppHost, which then stops children in reverse dependency order.
/// </summary>
/// <remarks>
/// Linux delivers the parent-death signal when the <em>thread</em> that forked the child exits, so every child is
/// forked from one dedicated thread that lives as long as the process.
/// </remarks>
internal static class ProcessSpawner
{
    private static readonly BlockingCollection<(Func<Process> Start, TaskCompletionSource<Process> Result)> Requests = [];
    private static readonly Lazy<string?> SetPriv = new(() => FindOnPath("setpriv"));
    private static readonly Lazy<string?> SetSid = new(() => FindOnPath("setsid"));

    static ProcessSpawner()
    {
        var thread = new Thread(() =>
        {
            foreach (var (start, result) in Requests.GetConsumingEnumerable())
            {
                try
                {
                    result.SetResult(start());
                }
                catch (Exception ex)
                {
                    result.SetException(ex);
                }
            }
        })
        {
            IsBackground = true,
            Name = "Shop.Hosting process spawner",
        };
        thread.Start();
    }

    public static async Task<ManagedProcess> StartAsync(ProcessSpec spec, Action<string, bool> onOutput)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var startInfo = CreateStartInfo(spec);
        var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((() =>
        {
            var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    onOutput(e.Data, false);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    onOutput(e.Data, true);
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                // Small (a configuration, a password): it fits the pipe's buffer, so this never blocks.
                if (spec.StandardInput is { } input)
                {
                    process.StandardInput.Write(input);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The process exited before reading its input; its exit code and output say why.
            }

            return process;
        }, result));

        return new ManagedProcess(await result.Task, spec.StopSignal);
    }

    /// <summary>Runs a helper process (e.g. <c>initdb</c>) to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToCompletionAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        var output = new System.Text.StringBuilder();
        var process = await StartAsync(spec, (line, _) =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        });
        try
        {
            var exitCode = await process.Exited.WaitAsync(cancellationToken);
            lock (output)
            {
                return (exitCode, output.ToString());
            }
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
    }

    private static ProcessStartInfo CreateStartInfo(ProcessSpec spec)
    {
        var fileName = ResolveExecutable(spec.FileName);
        var startInfo = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = spec.WorkingDirectory ?? Environment.CurrentDirectory,
        };

        if (SetPriv.Value is { } setpriv && SetSid.Value is { } setsid)
        {
            startInfo.FileName = setpriv;
            startInfo.ArgumentList.Add("--pdeathsig");
            startInfo.ArgumentList.Add("KILL");
            if (spec.RunAsUser is { } user)
            {
                startInfo.ArgumentList.Add($"--reuid={user}");
                startInfo.ArgumentList.Add($"--regid={user}");
                startInfo.ArgumentList.Add("--init-groups");
            }

            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add(setsid);
            startInfo.ArgumentList.Add(fileName);
        }
        else if (spec.RunAsUser is not null)
        {
            throw new DistributedApplicationException(
                "Running a process as another user needs 'setpriv' and 'setsid' (Debian package util-linux).");
        }
        else
        {
            startInfo.FileName = fileName;
        }

        foreach (var argument in spec.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var name in spec.RemoveEnvironment)
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in spec.Environment)
        {
            startInfo.Environment[name] = value;
        }

        return startInfo;
    }

    private static string ResolveExecutable(string fileName)
    {
        if (Path.IsPathRooted(fileName))
        {
            return File.Exists(fileName)
                ? fileName
                : throw new DistributedApplicationException($"The executable '{fileName}' does not exist.");
        }

        return FindOnPath(fileName)
            ?? throw new DistributedApplicationException($"The executable '{fileName}' was not found on PATH.");
    }

    internal static string? FindOnPath(string fileName)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Append("/sbin")
            .Select(directory => Path.Combine(directory, fileName))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A child process the orchestrator started.</summary>
internal sealed class ManagedProcess(Process process, int stopSignal)
{
    public int ProcessId { get; } = process.Id;

    public long? KernelStartTime { get; } = PosixProcess.StartTime(process.Id);

    /// <summary>Completes with the exit code once the process and its output streams have ended.</summary>
    public Task<int> Exited { get; } = WaitForExitAsync(process);

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Asks for a graceful stop; kills the whole process group after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (HasExited)
        {
            return;
        }

        PosixProcess.Signal(ProcessId, stopSignal);
        if (await Task.WhenAny(Exited, Task.Delay(timeout)) != Exited)
        {
            Kill();
        }

        await Exited;
        // Stray grandchildren (e.g. PostgreSQL backends) share the group: make sure none stays behind.
        PosixProcess.Signal(ProcessId, PosixProcess.SIGKILL);
    }

    public void Kill() => PosixProcess.Signal(ProcessId, PosixProcess.SIGKILL);

    private static async Task<int> WaitForExitAsync(Process process)
    {
        await process.WaitForExitAsync();
        var exitCode = process.ExitCode;
        process.Dispose();
        return exitCode;
    }
}
