using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Postgres;

/// <summary>
/// A freshly initialised PostgreSQL cluster kept once per machine, PostgreSQL build and initdb settings, for new
/// clusters to be copied from. It holds no user data and only a throw-away random superuser password, which every
/// copy replaces. AppHosts starting together may both create it: each initialises its own staging directory and the
/// first to rename it into place wins; readers only ever see a complete template.
/// </summary>
internal sealed class PostgresClusterTemplate
{
    private const string StagingPrefix = ".staging-";

    /// <summary>A staging directory this old was left by a run that died while creating the template.</summary>
    private static readonly TimeSpan AbandonedStagingAge = TimeSpan.FromMinutes(10);

    private readonly string _root;
    private readonly string _directory;
    private readonly string? _runAsUser;
    private readonly ILogger _logger;

    public PostgresClusterTemplate(string? configuredRoot, string binDirectory, IReadOnlyList<string> initDbArguments, string? runAsUser, ILogger logger)
    {
        _runAsUser = runAsUser;
        _logger = logger;
        _root = configuredRoot is null
            ? DataDirectories.GetCacheDirectory("postgres-templates", runAsUser)
            : Directory.CreateDirectory(Path.GetFullPath(configuredRoot)).FullName;
        _directory = Path.Combine(_root, KeyOf(binDirectory, initDbArguments));
    }

    /// <summary>The template's data directory, initialised now by <paramref name="initialize"/> if there is none yet.</summary>
    public async Task<string> GetOrCreateAsync(Func<string, string, Task> initialize)
    {
        var dataDirectory = Path.Combine(_directory, "pgdata");
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            return dataDirectory;
        }

        RemoveAbandonedStaging();
        var staging = Path.Combine(_root, StagingPrefix + Guid.NewGuid().ToString("N"));
        var stagingData = Path.Combine(staging, "pgdata");
        Directory.CreateDirectory(staging);
        PostgresServerLauncher.CreatePrivateDirectory(stagingData, _runAsUser);

        try
        {
            await initialize(stagingData, staging);
            Directory.Move(staging, _directory);
            _logger.LogInformation("Initialised the PostgreSQL template cluster {Directory}; new clusters are copied from it.", _directory);
        }
        catch (IOException) when (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            // Another AppHost renamed its own into place first: use that one.
        }
        finally
        {
            DeleteQuietly(staging);
        }

        return dataDirectory;
    }

    /// <summary>
    /// Copies the template into an empty data directory with <c>cp -a</c>, which keeps the modes and owner
    /// PostgreSQL insists on (0700, the server's user); 40 MB, a tenth of a second on an idle machine.
    /// </summary>
    public async Task CopyAsync(string templateDataDirectory, string dataDirectory, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await ProcessSpawner.RunToCompletionAsync(
            new ProcessSpec("cp") { Arguments = ["-a", "--", templateDataDirectory + "/.", dataDirectory + "/"] },
            cancellationToken);
        if (exitCode != 0)
        {
            throw new IOException($"copying the template cluster {templateDataDirectory} failed with exit code {exitCode}: {output.Trim()}");
        }
    }

    /// <summary>Removes a template that could not be used, so the next run makes a new one.</summary>
    public void Discard() => DeleteQuietly(_directory);

    /// <summary>Names the template after the server build (its path, size and time) and initdb's settings.</summary>
    private static string KeyOf(string binDirectory, IReadOnlyList<string> initDbArguments)
    {
        var initDb = new FileInfo(Path.Combine(binDirectory, "initdb"));
        var postgres = new FileInfo(Path.Combine(binDirectory, "postgres"));
        var identity = string.Join('\n', [
            Path.GetFullPath(binDirectory),
            $"{initDb.Length}@{initDb.LastWriteTimeUtc.Ticks}",
            $"{postgres.Length}@{postgres.LastWriteTimeUtc.Ticks}",
            .. initDbArguments]);
        var major = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(binDirectory).TrimEnd('/')));
        return $"{major}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..12]}";
    }

    private void RemoveAbandonedStaging()
    {
        foreach (var directory in new DirectoryInfo(_root).EnumerateDirectories(StagingPrefix + "*"))
        {
            if (DateTime.UtcNow - directory.CreationTimeUtc > AbandonedStagingAge)
            {
                DeleteQuietly(directory.FullName);
            }
        }
    }

    private void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogDebug("Could not remove {Directory}: {Message}", directory, ex.Message);
        }
    }
}
