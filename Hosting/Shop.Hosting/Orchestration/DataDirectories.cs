using System.Security.Cryptography;
using System.Text;
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

    private readonly ILogger<DataDirectories> _logger;
    private readonly Lazy<string> _sessionDirectory;

    public DataDirectories(IConfiguration configuration, DistributedApplicationBuilder builder, ILogger<DataDirectories> logger)
    {
        _logger = logger;
        var appHostDirectory = builder.AppHostDirectory;
        var configured = configuration[KnownConfigNames.DataDirectory];
        _sessionDirectory = new Lazy<string>(CreateSessionDirectory);
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
        return directory;
    }

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
