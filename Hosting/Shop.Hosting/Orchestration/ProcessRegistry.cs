using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.Hosting.Orchestration;

/// <summary>
/// Makes this AppHost the only one using its data directory, and records the processes it starts in a state file,
/// so a run that follows one killed outright can remove what the parent-death signal may have missed (e.g. a
/// process that changed its session). Started before every other hosted service: nothing is killed or started
/// unless the data directory is this AppHost's.
/// </summary>
internal sealed class ProcessRegistry(DataDirectories directories, ILogger<ProcessRegistry> logger) : IHostedService, IDisposable
{
    /// <summary>The errno .NET's IOException carries when the lock file is locked by another open file.</summary>
    private const int EWOULDBLOCK = 11;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, Entry> _entries = [];
    private FileStream? _ownership;

    private string StateFile => Path.Combine(directories.StateDirectory, "processes.json");

    /// <summary>Locked for the AppHost's lifetime; the kernel releases it when the process ends, however it ends.</summary>
    private string LockFile => Path.Combine(directories.StateDirectory, "apphost.lock");

    /// <summary>The owner's PID, for the message of an AppHost that finds the lock taken (it cannot read a locked file).</summary>
    private string OwnerFile => Path.Combine(directories.StateDirectory, "apphost.pid");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        CleanLeftovers();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Takes the data directory for this AppHost, then kills processes a previous run left behind; done once,
    /// before this run records any.
    /// </summary>
    public void CleanLeftovers()
    {
        lock (_lock)
        {
            if (_ownership is null)
            {
                _ownership = TakeOwnership();
                KillRecordedProcesses();
            }
        }
    }

    /// <summary>Gives the data directory up (at disposal, once every process has stopped and been removed).</summary>
    public void Dispose()
    {
        // The PID file stays: it is read only while the lock is held, and every owner rewrites it first.
        lock (_lock)
        {
            _ownership?.Dispose();
        }
    }

    /// <summary>
    /// Locks the lock file (FileShare.None is an exclusive flock on Linux, between processes and between apps in
    /// one process alike), or explains who holds it.
    /// </summary>
    private FileStream TakeOwnership()
    {
        FileStream ownership;
        try
        {
            Directory.CreateDirectory(directories.StateDirectory);
            ownership = new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex.HResult == EWOULDBLOCK)
        {
            var owner = File.Exists(OwnerFile) ? $"the AppHost with pid {File.ReadAllText(OwnerFile).Trim()}" : "another AppHost";
            throw new DistributedApplicationException(
                $"The data directory {directories.PersistentRoot} is in use by {owner}: stop that one first, or give this one another {KnownConfigNames.DataDirectory}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DistributedApplicationException($"{KnownConfigNames.DataDirectory} {directories.PersistentRoot} cannot be used: {ex.Message}");
        }

        File.WriteAllText(OwnerFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return ownership;
    }

    private void KillRecordedProcesses()
    {
        if (!File.Exists(StateFile))
        {
            return;
        }

        Entry[] previous;
        try
        {
            previous = JsonSerializer.Deserialize<Entry[]>(File.ReadAllText(StateFile)) ?? [];
        }
        catch (JsonException)
        {
            previous = [];
        }

        var killed = 0;
        foreach (var entry in previous)
        {
            // The start time tells our old process from an unrelated one that got the same PID since.
            if (PosixProcess.StartTime(entry.ProcessId) == entry.KernelStartTime)
            {
                PosixProcess.Signal(entry.ProcessId, PosixProcess.SIGKILL);
                killed++;
            }
        }

        if (killed > 0)
        {
            logger.LogWarning("Stopped {Count} process(es) left over from a previous run of this AppHost.", killed);
        }

        File.Delete(StateFile);
    }

    public void Add(string resourceId, ManagedProcess process)
    {
        CleanLeftovers();
        lock (_lock)
        {
            _entries[process.ProcessId] = new Entry(resourceId, process.ProcessId, process.KernelStartTime);
            Save();
        }
    }

    public void Remove(ManagedProcess process)
    {
        lock (_lock)
        {
            if (_entries.Remove(process.ProcessId))
            {
                Save();
            }
        }
    }

    private void Save()
    {
        // Without the lock (not yet taken, or given up) the state file may be another AppHost's: never overwrite it.
        if (_ownership is not { CanWrite: true })
        {
            return;
        }

        var temporary = StateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_entries.Values.ToArray()));
        File.Move(temporary, StateFile, overwrite: true);
    }

    private sealed record Entry(string ResourceId, int ProcessId, long? KernelStartTime);
}
