using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Trace;
using Shop.Data;

namespace Microsoft.Extensions.Hosting;

public static class NpgsqlDbContextExtensions
{
    /// <summary>
    /// EF Core logs every failed command, save and query as an error, with its SQL, before it throws. The exception
    /// reaches code that knows what it means and logs it once: the request's exception handler (a 500, or a 503 when
    /// the database is unavailable), the event bus's retries, a background worker. Some failures are expected and
    /// handled, such as a retried order's <c>Idempotency-Key</c> meeting its unique index. So EF Core's own copies are
    /// debug messages here. Connection failures keep their level: they explain an unhealthy database check.
    /// </summary>
    private static readonly (EventId, LogLevel)[] FailedOperationsLoggedByTheirCaller =
    [
        (RelationalEventId.CommandError, LogLevel.Debug),
        (CoreEventId.SaveChangesFailed, LogLevel.Debug),
        (CoreEventId.QueryIterationFailed, LogLevel.Debug),
    ];

    /// <summary>Statements each connection keeps prepared; a service's hot paths use a few dozen.</summary>
    public const int MaxAutoPreparedStatements = 64;

    /// <summary>
    /// Registers <typeparamref name="TContext"/> on the PostgreSQL database named by
    /// <c>ConnectionStrings:{connectionName}</c>, with a health check that opens a connection and
    /// Npgsql tracing. Same name and role as Aspire's Npgsql EF Core client integration; the connection and save
    /// defaults it adds are listed in Shop.Data's README.
    /// </summary>
    public static IHostApplicationBuilder AddNpgsqlDbContext<TContext>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<NpgsqlDbContextOptionsBuilder>? configureNpgsql = null)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);

        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The connection string 'ConnectionStrings:{connectionName}' is not set. Run this service through " +
                $"Shop.AppHost, or point it at a PostgreSQL database with the environment variable " +
                $"ConnectionStrings__{connectionName}=\"Host=…;Port=…;Username=…;Password=…;Database=…\".");
        }

        // Parsing here turns a malformed string into a start-up error instead of a failure on the first request.
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        // (Npgsql's builder answers ContainsKey for every keyword it knows; the plain builder tells what was written.)
        var written = new DbConnectionStringBuilder { ConnectionString = connectionString };
        // Npgsql accepts each keyword with or without its spaces.
        bool IsWritten(string keyword) => written.ContainsKey(keyword) || written.ContainsKey(keyword.Replace(" ", "", StringComparison.Ordinal));

        if (!IsWritten("No Reset On Close"))
        {
            // Nothing here leaves session state on a pooled connection, so the DISCARD ALL that Npgsql would run at
            // every reuse (a dozen per order in checkout) is work for nothing. A connection string can still ask for it.
            settings.NoResetOnClose = true;
        }

        if (!IsWritten("Max Auto Prepare"))
        {
            // EF Core sends the same parameterised statements over and over; prepared once per connection, PostgreSQL
            // stops parsing and planning them on every call. A connection string can set its own limit, or 0 for none.
            settings.MaxAutoPrepare = MaxAutoPreparedStatements;
        }

        connectionString = settings.ConnectionString;

        // Saves that only insert, such as a placed order, commit in their one round trip (InsertOnlyBatches).
        builder.Services.AddDbContextPool<TContext>(options => options
            .UseNpgsql(connectionString, configureNpgsql)
            .WithoutTransactionForInsertOnlyBatches()
            .ConfigureWarnings(warnings => warnings
                .Log(FailedOperationsLoggedByTheirCaller)
                // Before applying migrations, EF Core checks the model for changes without a migration unless this
                // warning is ignored: it builds the design-time model (OnModelCreating, every convention) and the
                // snapshot's, and diffs them, on every first start of a database. Each service's ModelTests make the
                // same check (ModelChecks.FindDrift), so a forgotten migration still fails the build's tests.
                .Ignore(RelationalEventId.PendingModelChangesWarning)));

        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>(name: connectionName);

        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddNpgsql());

        return builder;
    }
}
