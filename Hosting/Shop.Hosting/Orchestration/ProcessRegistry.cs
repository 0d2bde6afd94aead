using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Shop.Hosting.Orchestration;

/// <summary>
/// Records the processes the AppHost started in a state file, so a run that follows one killed outright can
/// remove what the parent-death signal may have missed (e.g. a process that changed its session).
/// </summary>
internal sealed class ProcessRegistry(DataDirectories directories, ILogger<ProcessRegistry> logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Entry> _entries = [];
    private bool _cleaned;

    private string StateFile => Path.Combine(directories.StateDirectory, "processes.json");

    /// <summary>Kills processes a previous run of this AppHost left behind; done once, before this run records any.</summary>
    public void CleanLeftovers()
    {
        lock (_lock)
        {
            if (!_cleaned)
            {
                _cleaned = true;
                KillRecordedProcesses();
            }
        }
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
        Directory.CreateDirectory(directories.StateDirectory);
        var temporary = StateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_entries.Values.ToArray()));
        File.Move(temporary, StateFile, overwrite: true);
    }

    private sealed record Entry(string ResourceId, int ProcessId, long? KernelStartTime);
}
