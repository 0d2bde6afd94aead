using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Shop.Hosting.Orchestration;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>What killed runs leave in the temporary directory, removed by a later run, and only that.</summary>
public sealed class LeftoverCleanupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_new_run_removes_session_directories_of_killed_runs_and_keeps_the_ones_in_use()
    {
        var ct = TestApp.Timeout();
        var deadProcess = await DeadProcessAsync();
        var oneHourAgo = DateTime.UtcNow.AddHours(-1);
        using var running = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        var planted = new List<string>();
        try
        {
            // Killed runs: their owner is gone (or, from before owners were recorded, every process they recorded is).
            var killed = Plant(planted, owner: deadProcess, recorded: null, oneHourAgo);
            var killedBeforeOwners = Plant(planted, owner: null, recorded: deadProcess, oneHourAgo);
            // In use, or not provably abandoned: a live owner (this test process, say), a live recorded process, a
            // directory changed recently, one with nothing recorded.
            var inUse = Plant(planted, owner: (Environment.ProcessId, PosixProcess.StartTime(Environment.ProcessId)!.Value), recorded: null, oneHourAgo);
            var recordsALiveProcess = Plant(planted, owner: null, recorded: (running.Id, PosixProcess.StartTime(running.Id)!.Value), oneHourAgo);
            var recent = Plant(planted, owner: deadProcess, recorded: null, DateTime.UtcNow);
            var unknown = Plant(planted, owner: null, recorded: null, oneHourAgo);

            var builder = TestApp.Create(output);
            builder.AddExecutable("app", "sleep", ".", "60");
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);
            var session = app.Services.GetRequiredService<DataDirectories>().SessionDirectory;

            Assert.False(Directory.Exists(killed));
            Assert.False(Directory.Exists(killedBeforeOwners));
            Assert.All(new[] { inUse, recordsALiveProcess, recent, unknown, session }, d => Assert.True(Directory.Exists(d), d));
        }
        finally
        {
            running.Kill();
            foreach (var directory in planted.Where(Directory.Exists))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public void Reservation_files_no_process_holds_are_removed_and_held_ones_kept()
    {
        var directory = Directory.CreateTempSubdirectory("shop-ports-test-").FullName;
        try
        {
            var stale = Path.Combine(directory, "20001");
            var held = Path.Combine(directory, "20002");
            File.WriteAllText(stale, string.Empty);
            using var reservation = new FileStream(held, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

            PortAllocator.RemoveStaleReservations(directory);

            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(held));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The PID and start time of a process that has ended.</summary>
    private static async Task<(int Pid, long StartTime)> DeadProcessAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "0.5") { UseShellExecute = false })!;
        var startTime = PosixProcess.StartTime(process.Id)!.Value;
        await process.WaitForExitAsync();
        return (process.Id, startTime);
    }

    /// <summary>A session directory as a run leaves it: owner file and, under test, the processes the run recorded.</summary>
    private static string Plant(List<string> planted, (int Pid, long StartTime)? owner, (int Pid, long StartTime)? recorded, DateTime lastChange)
    {
        var directory = Directory.CreateTempSubdirectory("shop-").FullName;
        planted.Add(directory);
        Directory.CreateDirectory(Path.Combine(directory, "cache"));
        if (owner is { } o)
        {
            File.WriteAllText(Path.Combine(directory, "owner"), $"{o.Pid} {o.StartTime}");
            File.SetLastWriteTimeUtc(Path.Combine(directory, "owner"), lastChange);
        }

        if (recorded is { } r)
        {
            var state = Directory.CreateDirectory(Path.Combine(directory, "volumes", ".run")).FullName;
            File.WriteAllText(Path.Combine(state, "processes.json"), $$"""[{"ResourceId":"postgres","ProcessId":{{r.Pid}},"KernelStartTime":{{r.StartTime}}}]""");
            File.SetLastWriteTimeUtc(Path.Combine(state, "processes.json"), lastChange);
        }

        Directory.SetLastWriteTimeUtc(directory, lastChange);
        return directory;
    }
}
