using System.Text.RegularExpressions;
using Npgsql;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Postgres;

namespace Shop.Hosting;

public static partial class PostgresBuilderExtensions
{
    /// <summary>
    /// Adds a PostgreSQL server. In run mode and under test it is Debian's real server, started as a child process
    /// on its own port with its own data directory and a generated password; when <c>ConnectionStrings:{name}</c>
    /// is configured, that existing server is used instead and nothing is started.
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgres(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource>? password = null, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);

        var existing = ConfigurationValue.ConnectionString(builder.Configuration, name);
        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateGeneratedSecret(builder, $"{name}-password");
        var resource = new PostgresServerResource(name, passwordParameter, existing);
        var server = builder.AddResource(resource)
            .WithHealthCheck("SELECT 1", (_, cancellationToken) => PostgresHealth.CheckAsync(resource.ConnectionStringExpression, cancellationToken));

        if (resource.ExistingConnectionString is null)
        {
            server.WithAnnotation(new EndpointAnnotation(PostgresServerResource.PrimaryEndpointName, "tcp", port))
                .WithAnnotation(new ProcessLaunchAnnotation(context => new PostgresServerLauncher(resource, context).PrepareAsync()));
        }

        return server;
    }

    /// <summary>Keeps the server's data between runs (under the AppHost's data directory) instead of a temporary directory.</summary>
    public static IResourceBuilder<PostgresServerResource> WithDataVolume(this IResourceBuilder<PostgresServerResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.IsPersistent = true;
        return builder;
    }

    /// <summary>Adds a database to the server; it is created when the server is ready, if it does not exist yet.</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<PostgresServerResource> builder, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);
        var database = databaseName ?? name;
        if (!DatabaseNamePattern().IsMatch(database))
        {
            throw new ArgumentException($"'{database}' is not a database name this layer creates: use letters, digits and underscores, starting with a letter.", nameof(databaseName));
        }

        var server = builder.Resource;
        var existing = ConfigurationValue.ConnectionString(builder.ApplicationBuilder.Configuration, name);
        var resource = new PostgresDatabaseResource(name, database, server, existing);
        server.AddDatabase(name, database);

        var databaseBuilder = builder.ApplicationBuilder.AddResource(resource)
            .WithAnnotation(new WaitAnnotation(server, WaitType.WaitUntilHealthy))
            .WithHealthCheck("SELECT 1", (_, cancellationToken) => PostgresHealth.CheckAsync(resource.ConnectionStringExpression, cancellationToken));
        if (resource.ExistingConnectionString is null)
        {
            databaseBuilder
                .WithAnnotation(new InitializeAnnotation((_, cancellationToken) => CreateDatabaseIfMissingAsync(server, database, cancellationToken)))
                // The database lives in its server's process, which keeps running: a stopped database refuses
                // connections, as its state says.
                .WithAnnotation(new StopAnnotation(cancellationToken => RefuseConnectionsAsync(server, database, cancellationToken)));
        }

        return databaseBuilder;
    }

    private static async Task CreateDatabaseIfMissingAsync(PostgresServerResource server, string database, CancellationToken cancellationToken)
    {
        await using var connection = await OpenServerAsync(server, cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            // It may have been stopped (see RefuseConnectionsAsync), in this run or one before.
            await using var allow = new NpgsqlCommand($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true", connection);
            await allow.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        // The name was validated against DatabaseNamePattern, so quoting it is enough. PostgreSQL 15's default strategy
        // copies the template block by block through shared buffers: a few MiB of catalog per database, all dirty,
        // which the background writer then maps and writes out (22 MiB of its RSS after four databases). FILE_COPY
        // copies the files on disk after a checkpoint, which costs little on a server that has just started.
        var strategy = connection.PostgreSqlVersion.Major >= 15 ? " STRATEGY FILE_COPY" : "";
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"{strategy}", connection);
        try
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created concurrently (another AppHost on the same existing server): what we wanted.
        }
    }

    /// <summary>A stopped database: new connections are refused and open ones ended, until a start allows them again.</summary>
    private static async Task RefuseConnectionsAsync(PostgresServerResource server, string database, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenServerAsync(server, cancellationToken);
            await using var refuse = new NpgsqlCommand(
                $"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false; " +
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()",
                connection);
            refuse.Parameters.AddWithValue("name", database);
            await refuse.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException)
        {
            // The server is not running (stopped, or stopping with the app): nothing reaches the database anyway.
        }
    }

    private static async Task<NpgsqlConnection> OpenServerAsync(PostgresServerResource server, CancellationToken cancellationToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await server.ConnectionStringExpression.GetValueAsync(cancellationToken))
        {
            Database = "postgres",
            Pooling = false,
        };
        var connection = new NpgsqlConnection(connectionString.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,62}$")]
    private static partial Regex DatabaseNamePattern();
}
