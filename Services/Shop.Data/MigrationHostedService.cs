using System.Data;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Shop.Data;

internal static class MigrationTelemetry
{
    public const string ActivitySourceName = "Shop.Data.Migrations";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}

/// <summary>
/// Migrates in <see cref="StartAsync"/>: the host starts hosted services before the web server, so the
/// service listens (and reports healthy) only once its schema is current.
/// </summary>
internal sealed partial class MigrationHostedService<TContext>(
    IServiceProvider services,
    Func<TContext, IServiceProvider, CancellationToken, Task> seeder,
    TimeProvider timeProvider,
    ILogger<MigrationHostedService<TContext>> logger) : IHostedService
    where TContext : DbContext
{
    // Long enough to ride out a server that is still starting or a database being created next to us,
    // short enough that a wrong connection string fails the start visibly.
    private static readonly TimeSpan RetryWindow = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(2);

    private static readonly string ContextName = typeof(TContext).Name;

    // Stable across processes (string.GetHashCode is not), so every replica takes the same locks.
    private static readonly long SeedLockKey = LockKey("Shop.Data.Seed:");

    private static readonly long MigrationLockKey = LockKey("Shop.Data.Migrate:");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var activity = MigrationTelemetry.ActivitySource.StartActivity($"Migrate {ContextName}");
        activity?.SetTag("db.system.name", "postgresql");

        var started = timeProvider.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = services.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<TContext>();
            try
            {
                // Without its database yet (a server of one's own, not the AppHost's), EF Core's MigrateAsync creates it.
                var migrated = await WaitForServerAsync(context, cancellationToken)
                    ? await MigrateAloneAsync(context, cancellationToken)
                    : await MigratePendingAsync(context, cancellationToken);

                await SeedAsync(context, scope.ServiceProvider, cancellationToken);
                if (migrated && context.Database.GetDbConnection() is NpgsqlConnection connection)
                {
                    // The server process behind the connection that ran the DDL keeps what it cached about every table
                    // for as long as it lives (5-10 MiB more than a fresh one); the pool would keep it for its idle
                    // lifetime. Cleared, it is closed when this scope returns it, and the next caller gets a fresh one.
                    NpgsqlConnection.ClearPool(connection);
                }

                activity?.SetTag("shop.migration.attempts", attempt);
                LogMigrated(logger, ContextName, attempt, timeProvider.GetElapsedTime(started).TotalMilliseconds);
                return;
            }
            catch (Exception exception) when (IsTransient(exception) && !cancellationToken.IsCancellationRequested)
            {
                var elapsed = timeProvider.GetElapsedTime(started);
                var target = DescribeTarget(context);
                if (elapsed + delay <= RetryWindow)
                {
                    LogRetrying(logger, ContextName, target, attempt, delay.TotalMilliseconds, exception.Message);
                    await Task.Delay(delay, timeProvider, cancellationToken);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
                    continue;
                }

                RecordFailure(activity, exception);
                LogUnreachable(logger, ContextName, target, attempt, elapsed.TotalSeconds, exception.Message);
                // Failing StartAsync stops the host before the web server listens. The message already says
                // everything; the connection's own stack trace would only bury it.
                throw new InvalidOperationException(
                    $"Could not migrate {ContextName}: the database at {target} stayed unreachable for " +
                    $"{elapsed.TotalSeconds:0.#} s. Last error: {exception.Message}");
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                RecordFailure(activity, exception);
                LogFailed(logger, exception, ContextName);
                throw;
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Migrates under a session-level advisory lock; false when nothing was pending (another replica may have applied
    /// it meanwhile). Replicas starting together on a fresh database each find the migrations pending, and EF Core's
    /// own migration lock does not keep a second one from applying a migration again (products' second replica crashed
    /// on "column already exists"); nor could two create the history table at once without one of them logging a
    /// failed command. The lock ends with its connection, so a replica killed while migrating leaves nothing held.
    /// </summary>
    private static async Task<bool> MigrateAloneAsync(TContext context, CancellationToken cancellationToken)
    {
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken);
            try
            {
                // EF Core reads the history table before creating it and logs the failed read of a fresh
                // database as an error (dotnet/efcore#37328); creating it first keeps start-up logs honest.
                await context.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
                return await MigratePendingAsync(context, cancellationToken);
            }
            finally
            {
                // A connection that broke took the lock with it; unlocking it would only hide why it broke.
                if (context.Database.GetDbConnection().State == ConnectionState.Open)
                {
                    await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
                }
            }
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Every start after the first finds all of this build's migrations applied: MigrateAsync would still take EF Core's
    /// migration lock and diff the snapshot's model against the current one (0.1-0.25 s a service at start, for
    /// nothing). Each service's tests check that no model change is left unmigrated.
    /// </summary>
    private static async Task<bool> MigratePendingAsync(TContext context, CancellationToken cancellationToken)
    {
        if (!(await context.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
        {
            return false;
        }

        await context.Database.MigrateAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Seeds under a transaction-scoped advisory lock: replicas starting together would otherwise all find
    /// the tables empty and all insert the seed data.
    /// </summary>
    private async Task SeedAsync(TContext context, IServiceProvider scopedServices, CancellationToken cancellationToken)
    {
        await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
        await context.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({SeedLockKey})", cancellationToken);
        await seeder(context, scopedServices, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Opens one plain connection first: while the server is down this fails quietly, where EF Core would
    /// log an error with a stack trace on every attempt. A missing database counts as reachable, since
    /// the migration creates it.
    /// </summary>
    /// <returns>Whether the database exists.</returns>
    private static async Task<bool> WaitForServerAsync(TContext context, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(context.Database.GetConnectionString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            return false;
        }
    }

    private static void RecordFailure(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.AddException(exception);
    }

    /// <summary>
    /// Failures worth waiting out: the server is not reachable yet, still starting, or its database is
    /// being created at the same moment by the orchestrator; and replicas racing to create the history
    /// table (concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog).
    /// </summary>
    private static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return postgres.SqlState is
                        PostgresErrorCodes.CannotConnectNow or
                        PostgresErrorCodes.TooManyConnections or
                        PostgresErrorCodes.InvalidCatalogName or
                        PostgresErrorCodes.DuplicateDatabase or
                        PostgresErrorCodes.DuplicateTable or
                        PostgresErrorCodes.UniqueViolation or
                        PostgresErrorCodes.AdminShutdown;
                case NpgsqlException { IsTransient: true }:
                case SocketException:
                    return true;
            }
        }

        return false;
    }

    private static string DescribeTarget(TContext context)
    {
        var builder = new NpgsqlConnectionStringBuilder(context.Database.GetConnectionString());
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static long LockKey(string purpose) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(purpose + typeof(TContext).FullName)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Migrated {Context} in {Attempts} attempt(s), {ElapsedMs:0} ms")]
    private static partial void LogMigrated(ILogger logger, string context, int attempts, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database for {Context} at {Target} not reachable yet (attempt {Attempt}); retrying in {DelayMs:0} ms: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string context, string target, int attempt, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Database for {Context} at {Target} stayed unreachable after {Attempts} attempts over {ElapsedSeconds:0.#} s; the service cannot start. Check that PostgreSQL runs there and that the connection string is right. Last error: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string context, string target, int attempts, double elapsedSeconds, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Migrating {Context} failed; the service cannot start")]
    private static partial void LogFailed(ILogger logger, Exception exception, string context);
}
