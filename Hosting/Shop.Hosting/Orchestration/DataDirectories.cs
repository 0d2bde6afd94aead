using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Shop.Hosting.Orchestration;

/// <summary>
/// Where resources keep their data: persistent volumes (<c>WithDataVolume</c>) under the data directory,
/// everything else in a session directory removed when the app stops.
/// </summary>
internal sealed class DataDirectories
{
    /// <summary>Where data lives that a server running as another user must reach, when the usual place is private.</summary>
    private const string SharedRoot = "/var/tmp/shop";

    /// <summary>In a session directory: the PID and kernel start time of the AppHost (or test process) it belongs to.</summary>
    private const string OwnerFile = "owner";

    /// <summary>A session directory left this long by a run that is gone is abandoned (its run was killed).</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(15);

    private readonly ILogger<DataDirectories> _logger;
    private readonly Lazy<string> _sessionDirectory;

    public DataDirectories(IConfiguration configuration, DistributedApplicationBuilder builder, ILogger<DataDirectories> logger)
    {
        _logger = logger;
        var appHostDirectory = builder.AppHostDirectory;
        var configured = configuration[KnownConfigNames.DataDirectory];
        _sessionDirectory = new Lazy<string>(() =>
        {
            RemoveAbandonedSessions(Path.GetTempPath(), AbandonedAfter);
            return CreateSessionDirectory();
        });
        // Under test, "persistent" data is isolated per app and removed with it, unless the test chose a directory.
        PersistentRoot = configured is not null
            ? Path.GetFullPath(configured)
            : builder.ExecutionContext.IsTesting
                ? Path.Combine(SessionDirectory, "volumes")
                : Path.Combine(appHostDirectory, ".shop", "data");
        PersistentRootKey = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(PersistentRoot)))[..12];
        // Beside the data it belongs to: an AppHost started with another data directory (a test) never touches
        // the processes of the developer's own run.
        StateDirectory = Path.Combine(PersistentRoot, ".run");
    }

    public string PersistentRoot { get; }

    /// <summary>Temporary data of this run; removed at stop.</summary>
    public string SessionDirectory => _sessionDirectory.Value;

    /// <summary>Local state of the orchestrator (the process registry).</summary>
    public string StateDirectory { get; }

    /// <summary>Names the fallback directory after the persistent root it stands in for.</summary>
    private string PersistentRootKey { get; }

    /// <summary>
    /// The directory for a resource's data. When the process runs as another user (PostgreSQL as <c>postgres</c>),
    /// the directory must be reachable by that user: a persistent root under a private home directory is not, so
    /// the data then lives under <c>/var/tmp/shop</c> instead, and the log says so.
    /// </summary>
    public string GetResourceDirectory(string resourceName, bool persistent, string? runAsUser = null)
    {
        if (!persistent)
        {
            return Path.Combine(SessionDirectory, resourceName);
        }

        var directory = Path.Combine(PersistentRoot, resourceName);
        if (runAsUser is null || IsTraversableByOthers(PersistentRoot))
        {
            return directory;
        }

        var fallback = Path.Combine(SharedRoot, PersistentRootKey, resourceName);
        _logger.LogInformation(
            "The data of '{Resource}' lives in {Fallback}: {Preferred} is not reachable by the '{User}' user the server runs as.",
            resourceName, fallback, directory, runAsUser);
        EnsureTraversable(SharedRoot);
        EnsureTraversable(Path.Combine(SharedRoot, PersistentRootKey));
        return fallback;
    }

    /// <summary>
    /// A machine-wide cache that outlives every run (e.g. a freshly initialised PostgreSQL cluster to copy from). It
    /// is under the user's cache directory, or, when a server runs as another user who must write into it, under
    /// <c>/var/tmp/shop</c>, which that user can reach.
    /// </summary>
    public static string GetCacheDirectory(string name, string? runAsUser)
    {
        if (runAsUser is not null)
        {
            EnsureTraversable(SharedRoot);
            var shared = Path.Combine(SharedRoot, name);
            EnsureTraversable(shared);
            return shared;
        }

        var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var directory = Path.Combine(cacheHome, "shop", name);
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>
    /// A directory only its owner can enter (0700), tightened if it exists with a wider mode: a server's data (Redis's
    /// append-only file with carts and sign-in sessions, the broker's event logs, PostgreSQL's cluster) is no other
    /// user's business, whatever modes the server gives the files it creates there.
    /// </summary>
    public static void CreatePrivateDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void DeleteSession()
    {
        if (!_sessionDirectory.IsValueCreated || !Directory.Exists(SessionDirectory))
        {
            return;
        }

        try
        {
            Directory.Delete(SessionDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove the session directory {Directory}: {Message}", SessionDirectory, ex.Message);
        }
    }

    private static string CreateSessionDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("shop-").FullName;
        // Servers that run as another user (postgres) need to traverse it to reach their own 0700 data directory.
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.WriteAllText(
            Path.Combine(directory, OwnerFile),
            string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {PosixProcess.StartTime(Environment.ProcessId)}"));
        return directory;
    }

    /// <summary>
    /// Removes the session directories (tens of MB each) of runs killed before they could remove their own: only a
    /// graceful stop does. Another AppHost or test process on the machine may be using its own right now, so a
    /// directory goes only when it is provably abandoned: the process it belongs to is gone, and it has not changed
    /// for <paramref name="minimumAge"/>.
    /// </summary>
    private void RemoveAbandonedSessions(string temporaryRoot, TimeSpan minimumAge)
    {
        var removed = 0;
        foreach (var directory in Directory.EnumerateDirectories(temporaryRoot, "shop-??????"))
        {
            if (!IsAbandoned(directory, minimumAge))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogDebug("Could not remove the abandoned session directory {Directory}: {Message}", directory, ex.Message);
            }
        }

        if (removed > 0)
        {
            _logger.LogInformation("Removed {Count} session director(ies) of earlier runs that were killed.", removed);
        }
    }

    private static bool IsAbandoned(string directory, TimeSpan minimumAge)
    {
        var owner = Path.Combine(directory, OwnerFile);
        // Left by a version that did not record its owner, and seen only under test: the processes its run recorded.
        var recorded = Path.Combine(directory, "volumes", ".run", "processes.json");
        try
        {
            var lastChange = new[] { directory, owner, recorded }
                .Max(path => File.Exists(path) || Directory.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue);
            if (DateTime.UtcNow - lastChange < minimumAge)
            {
                return false;
            }

            if (File.Exists(owner))
            {
                var fields = File.ReadAllText(owner).Split(' ');
                return fields.Length == 2 && fields[1].Length > 0
                    && !IsRunning(int.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
            }

            if (File.Exists(recorded))
            {
                using var processes = JsonDocument.Parse(File.ReadAllText(recorded));
                var entries = processes.RootElement.EnumerateArray().ToList();
                return entries.Count > 0 && !entries.Any(e =>
                    e.GetProperty("KernelStartTime") is not { ValueKind: JsonValueKind.Number } startTime
                    || IsRunning(e.GetProperty("ProcessId").GetInt32(), startTime.GetInt64()));
            }

            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            // Unreadable or not ours: not provably abandoned.
            return false;
        }
    }

    /// <summary>The start time tells the recorded process from an unrelated one that got the same PID since.</summary>
    private static bool IsRunning(int processId, long kernelStartTime) => PosixProcess.StartTime(processId) == kernelStartTime;

    private static void EnsureTraversable(string directory)
    {
        Directory.CreateDirectory(directory);
        var mode = File.GetUnixFileMode(directory);
        File.SetUnixFileMode(directory, mode | UnixFileMode.UserExecute | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    /// <summary>Whether every existing ancestor of <paramref name="path"/> lets other users through (o+x).</summary>
    private static bool IsTraversableByOthers(string path)
    {
        for (var directory = new DirectoryInfo(path); directory is not null; directory = directory.Parent)
        {
            if (directory.Exists && !directory.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
            {
                return false;
            }
        }

        return true;
    }
}
