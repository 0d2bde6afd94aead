using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Postgres;

/// <summary>
/// Prepares Debian's PostgreSQL server for one run: finds the binaries, initialises the data directory on first use,
/// makes the superuser's password match the current parameter, and builds the <c>postgres</c> command line.
/// </summary>
internal sealed class PostgresServerLauncher(PostgresServerResource resource, ProcessLaunchContext context)
{
    private const string InstallHint = "Install them with `sudo apt-get install postgresql` (or run ./run.sh, which installs what is missing)";

    /// <summary>
    /// PostgreSQL's programs read PGPORT, PGDATA and more from their environment; the AppHost's own (a developer's psql
    /// settings, say) must not reach the servers it runs, whose settings all come from the command line.
    /// </summary>
    private static IReadOnlyList<string> ServerVariables => InheritedEnvironment.Named("PG");

    /// <summary>initdb's settings, apart from where and the password; the template cache is keyed by them.</summary>
    private static readonly string[] InitDbArguments =
    [
        "-U", PostgresServerResource.SuperUser,
        "--auth-host=scram-sha-256",
        // Socket connections are trusted: the socket directory is private to the server's user.
        "--auth-local=trust",
        "--encoding=UTF8",
        "--no-locale",
        // Sorting stays C's, by code point, the same on every machine; but under ctype C, PostgreSQL's lower(), upper(),
        // ILIKE, regular expressions and text search know ASCII letters alone ("Été" kept its capital, "«" was a
        // letter). C.UTF-8 is glibc's own (no locales package needed) and knows every script's letters and cases.
        "--lc-ctype=C.UTF-8",
    ];

    public async Task<ProcessSpec> PrepareAsync()
    {
        var configuration = context.Services.GetRequiredService<IConfiguration>();
        var directories = context.Services.GetRequiredService<DataDirectories>();
        var binDirectory = FindBinDirectory(configuration[KnownConfigNames.PostgresBinDirectory]);
        var runAsUser = PosixProcess.IsRoot ? RequirePostgresUser() : null;

        var root = directories.GetResourceDirectory(resource.Name, resource.IsPersistent, runAsUser);
        var dataDirectory = Path.Combine(root, "pgdata");
        var socketDirectory = Path.Combine(root, "socket");
        Directory.CreateDirectory(root);
        CreatePrivateDirectory(dataDirectory, runAsUser);
        CreatePrivateDirectory(socketDirectory, runAsUser);
        RemoveStaleLockFile(dataDirectory);

        var password = resource.PasswordParameter.Value;
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            if (!PostgresPasswordStamp.Matches(dataDirectory, password))
            {
                await SetPasswordAsync(binDirectory, dataDirectory, password, runAsUser);
            }
        }
        else if (!configuration.GetValue(KnownConfigNames.PostgresTemplateCache, defaultValue: true)
            || !await TryCopyTemplateAsync(configuration[KnownConfigNames.PostgresTemplateDirectory], binDirectory, dataDirectory, password, runAsUser))
        {
            await InitializeAsync(binDirectory, dataDirectory, root, password, runAsUser, sync: resource.IsPersistent);
            RememberPassword(dataDirectory, password, runAsUser);
        }

        var port = resource.PrimaryEndpoint.Allocated.Port.ToString(CultureInfo.InvariantCulture);
        List<string> arguments =
        [
            "-D", dataDirectory,
            "-p", port,
            // The Unix socket lives in a private directory: only the server's user (and root) can reach it.
            "-k", socketDirectory,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=200",
            "-c", "shared_buffers=32MB",
            // No logical replication here: without workers PostgreSQL does not start their launcher process (8 MiB).
            "-c", "max_logical_replication_workers=0",
        ];
        if (!resource.IsPersistent)
        {
            // Throw-away data: skip fsync. A killed server still keeps every committed row (it is in the OS page
            // cache); only a machine crash could lose it, and this data dies with the run anyway.
            arguments.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }

        return new ProcessSpec(Path.Combine(binDirectory, "postgres"))
        {
            Arguments = arguments,
            WorkingDirectory = root,
            RunAsUser = runAsUser,
            StopSignal = PosixProcess.SIGINT,
            Environment = new Dictionary<string, string> { ["LC_ALL"] = "C.UTF-8" },
            RemoveEnvironment = ServerVariables,
        };
    }

    /// <summary>
    /// A server killed outright leaves its postmaster.pid behind. Once the PID it names belongs to another process of
    /// the server's user, PostgreSQL cannot tell and refuses to start ("lock file already exists"). The file is stale
    /// when no process works in this data directory: a server and each of its backends do (it is their current
    /// directory), and an orphaned backend still attached to the old shared memory must keep the file in place.
    /// </summary>
    private void RemoveStaleLockFile(string dataDirectory)
    {
        var lockFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(lockFile))
        {
            return;
        }

        var identity = LockFileIdentity(lockFile);
        if (identity is null || AnyProcessWorksIn(identity))
        {
            return;
        }

        File.Delete(lockFile);
        context.Services.GetRequiredService<ILoggerFactory>().CreateLogger<PostgresServerLauncher>().LogWarning(
            "Removed the stale {LockFile}: the server it names (pid {ProcessId}) is gone, and no process works in that data directory.",
            lockFile, identity.Split('\n')[0]);
    }

    /// <summary>Whether a process's current directory holds the same lock file (a server of this data directory).</summary>
    private static bool AnyProcessWorksIn(string identity)
    {
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(process), CultureInfo.InvariantCulture, out _)
                && LockFileIdentity(Path.Combine(process, "cwd", "postmaster.pid")) == identity)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The lines of a lock file a running server never rewrites (its PID, data directory and start time); the ones
    /// after them (port, status) change while it starts.
    /// </summary>
    private static string? LockFileIdentity(string lockFile)
    {
        try
        {
            return File.Exists(lockFile) ? string.Join('\n', File.ReadLines(lockFile).Take(3)) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process ended, or its directory is not ours to look into.
            return null;
        }
    }

    /// <summary>
    /// initdb takes 1–3 s of a start, most of it CPU that the services starting beside it need; every new cluster
    /// (a first run, each test's throw-away one) gets the same files. So one cluster is initialised per machine and
    /// PostgreSQL version (<see cref="PostgresClusterTemplate"/>) and copied, then given this run's password. The
    /// copies share the template's system identifier, which only replication between them would notice.
    /// Any failure falls back to initdb.
    /// </summary>
    private async Task<bool> TryCopyTemplateAsync(string? templateRoot, string binDirectory, string dataDirectory, string password, string? runAsUser)
    {
        var logger = context.Services.GetRequiredService<ILoggerFactory>().CreateLogger<PostgresServerLauncher>();
        PostgresClusterTemplate? template = null;
        try
        {
            template = new PostgresClusterTemplate(templateRoot, binDirectory, InitDbArguments, runAsUser, logger);
            // Synced once, when made: a template torn by a machine crash would break every cluster copied from it.
            var templateDirectory = await template.GetOrCreateAsync((staging, stagingRoot) => InitializeAsync(
                binDirectory, staging, stagingRoot, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), runAsUser, sync: true));
            await template.CopyAsync(templateDirectory, dataDirectory, context.CancellationToken);
            if (resource.IsPersistent)
            {
                // One syncfs(2) of the file system rather than initdb --sync-only's fsync of each of the copy's thousand
                // files: the same guarantee (PostgreSQL 17 offers it as initdb --sync-method=syncfs), and a second less
                // on the start's critical path while the other resources start beside it.
                await RunHelperAsync("sync", ["--file-system", dataDirectory], dataDirectory, runAsUser: null, "sync --file-system");
            }

            await SetPasswordAsync(binDirectory, dataDirectory, password, runAsUser);
            return true;
        }
        catch (Exception ex) when (ex is DistributedApplicationException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not use the PostgreSQL template cluster ({Message}); running initdb instead.", ex.Message);
            template?.Discard();
            EmptyDirectory(dataDirectory);
            return false;
        }
    }

    private static void EmptyDirectory(string directory)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo subdirectory)
            {
                subdirectory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }
    }

    private async Task RunHelperAsync(string fileName, IReadOnlyList<string> arguments, string workingDirectory, string? runAsUser, string description)
    {
        var (exitCode, output) = await ProcessSpawner.RunToCompletionAsync(
            new ProcessSpec(fileName)
            {
                Arguments = arguments,
                WorkingDirectory = workingDirectory,
                RunAsUser = runAsUser,
                RemoveEnvironment = ServerVariables,
            },
            context.CancellationToken);
        if (exitCode != 0)
        {
            throw new DistributedApplicationException($"{description} failed with exit code {exitCode}: {output.Trim()}");
        }
    }

    private async Task InitializeAsync(string binDirectory, string dataDirectory, string root, string password, string? runAsUser, bool sync)
    {
        var passwordFile = Path.Combine(root, ".pwfile");
        await File.WriteAllTextAsync(passwordFile, password + "\n", context.CancellationToken);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        ChangeOwner(passwordFile, runAsUser);
        try
        {
            List<string> arguments = ["-D", dataDirectory, $"--pwfile={passwordFile}", .. InitDbArguments];
            if (!sync)
            {
                arguments.Add("--no-sync");
            }

            await RunHelperAsync(Path.Combine(binDirectory, "initdb"), arguments, root, runAsUser, "initdb");
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>
    /// Persistent data keeps the password of the run that created it; the parameter may have changed since (new user
    /// secrets, another machine). Single-user mode sets it before the server starts, reading it from standard input;
    /// <see cref="PostgresPasswordStamp"/> then lets later starts with the same password skip this.
    /// </summary>
    private async Task SetPasswordAsync(string binDirectory, string dataDirectory, string password, string? runAsUser)
    {
        PostgresPasswordStamp.Remove(dataDirectory);
        var (exitCode, output) = await ProcessSpawner.RunToCompletionAsync(
            new ProcessSpec(Path.Combine(binDirectory, "postgres"))
            {
                Arguments = ["--single", "-D", dataDirectory, "postgres"],
                WorkingDirectory = dataDirectory,
                RunAsUser = runAsUser,
                RemoveEnvironment = ServerVariables,
                StandardInput = $"ALTER ROLE {PostgresServerResource.SuperUser} WITH PASSWORD '{password.Replace("'", "''", StringComparison.Ordinal)}';\n",
            },
            context.CancellationToken);
        if (exitCode != 0)
        {
            throw new DistributedApplicationException(
                $"could not prepare the existing data directory {dataDirectory} (is another server using it?): {output.Trim()}");
        }

        RememberPassword(dataDirectory, password, runAsUser);
    }

    private static void RememberPassword(string dataDirectory, string password, string? runAsUser) =>
        ChangeOwner(PostgresPasswordStamp.Write(dataDirectory, password), runAsUser);

    private static string FindBinDirectory(string? configured)
    {
        if (configured is not null)
        {
            return HasServerBinaries(configured)
                ? configured
                : throw new DistributedApplicationException(
                    $"PostgreSQL server binaries (initdb, postgres) were not found in {configured} ({KnownConfigNames.PostgresBinDirectory}). {InstallHint}, " +
                    "or use an existing server: set ConnectionStrings:postgres in the AppHost's configuration.");
        }

        const string debianRoot = "/usr/lib/postgresql";
        var found = Directory.Exists(debianRoot)
            ? Directory.EnumerateDirectories(debianRoot)
                .Select(version => Path.Combine(version, "bin"))
                .Where(HasServerBinaries)
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), CultureInfo.InvariantCulture, out var major) ? major : 0)
                .FirstOrDefault()
            : null;
        return found ?? throw new DistributedApplicationException(
            $"PostgreSQL server binaries (initdb, postgres) were not found in {debianRoot}/*/bin. {InstallHint}, " +
            "or use an existing server: set ConnectionStrings:postgres in the AppHost's configuration " +
            "(e.g. `dotnet user-secrets --project Shop.AppHost set ConnectionStrings:postgres \"Host=…;Port=5432;Username=…;Password=…\"`).");
    }

    private static bool HasServerBinaries(string directory) =>
        File.Exists(Path.Combine(directory, "postgres")) && File.Exists(Path.Combine(directory, "initdb"));

    private static string RequirePostgresUser() =>
        PosixProcess.LookupUser(PostgresServerResource.SuperUser) is not null
            ? PostgresServerResource.SuperUser
            : throw new DistributedApplicationException(
                "PostgreSQL refuses to run as root, and there is no 'postgres' user to run it as. Install the postgresql package (it creates that user), or run the AppHost as a regular user.");

    /// <summary>A 0700 directory owned by <paramref name="owner"/> when given: what PostgreSQL demands of its data directory.</summary>
    internal static void CreatePrivateDirectory(string directory, string? owner)
    {
        DataDirectories.CreatePrivateDirectory(directory);
        ChangeOwner(directory, owner);
    }

    private static void ChangeOwner(string path, string? owner)
    {
        if (owner is not null && PosixProcess.LookupUser(owner) is { } ids)
        {
            PosixProcess.ChangeOwner(path, ids.Uid, ids.Gid);
        }
    }
}

internal static class PostgresHealth
{
    public static async Task<HealthCheckOutcome> CheckAsync(ReferenceExpression connectionString, CancellationToken cancellationToken)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(await connectionString.GetValueAsync(cancellationToken))
        {
            Pooling = false,
            Timeout = 3,
        };
        await using var connection = new Npgsql.NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new Npgsql.NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
        return HealthCheckOutcome.Healthy;
    }
}
