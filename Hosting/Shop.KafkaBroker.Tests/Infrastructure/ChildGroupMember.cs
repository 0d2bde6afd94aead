using System.Collections.Concurrent;
using System.Diagnostics;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>A group member in its own process (the test assembly's entry point), so a test can SIGKILL it.</summary>
public sealed class ChildGroupMember : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChildGroupMember(string bootstrap, string topic, string groupId, string strategy, ConcurrentQueue<string> processed)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { typeof(ChildGroupMember).Assembly.Location, "group-member", bootstrap, topic, groupId, strategy })
        {
            info.ArgumentList.Add(arg);
        }

        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.StartsWith("processed ", StringComparison.Ordinal))
            {
                processed.Enqueue(e.Data["processed ".Length..]);
                Interlocked.Increment(ref _processedCount);
            }
            else if (e.Data.StartsWith("problem ", StringComparison.Ordinal))
            {
                Problems.Enqueue(e.Data);
            }
            else if (e.Data == "paused")
            {
                _paused.TrySetResult();
            }
        };
        _process.ErrorDataReceived += (_, _) => { };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private int _processedCount;

    /// <summary>librdkafka protocol problems the child reported.</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    public int ProcessedCount => Volatile.Read(ref _processedCount);

    /// <summary>Stops consuming after the message in hand, then SIGKILLs the process (no LeaveGroup is sent).</summary>
    public async Task PauseAndKillAsync(TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync("pause");
        await _process.StandardInput.FlushAsync();
        await _paused.Task.WaitAsync(timeout);
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
