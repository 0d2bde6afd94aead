using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>A PostgreSQL server: Debian's real server run as a child process, or an existing one.</summary>
public sealed class PostgresServerResource : Resource, IResourceWithConnectionString, IResourceWithEndpoints, IResourceWithWaitSupport
{
    internal const string PrimaryEndpointName = "tcp";
    internal const string SuperUser = "postgres";

    internal PostgresServerResource(string name, ParameterResource password, ReferenceExpression? existingConnectionString) : base(name)
    {
        PasswordParameter = password;
        ExistingConnectionString = existingConnectionString;
        PrimaryEndpoint = new EndpointReference(this, PrimaryEndpointName);
        ConnectionStringExpression = existingConnectionString is not null
            ? existingConnectionString
            : ReferenceExpression.Create(
                $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={SuperUser};Password={PasswordParameter}");
    }

    public ParameterResource PasswordParameter { get; }

    public EndpointReference PrimaryEndpoint { get; }

    public ReferenceExpression ConnectionStringExpression { get; }

    /// <summary>Set when <c>ConnectionStrings:{name}</c> points at an existing server: nothing is started.</summary>
    public ReferenceExpression? ExistingConnectionString { get; }

    /// <summary>Databases by resource name.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    internal bool IsPersistent { get; set; }

    private readonly Dictionary<string, string> _databases = new(StringComparer.Ordinal);

    internal void AddDatabase(string resourceName, string databaseName) => _databases[resourceName] = databaseName;
}

/// <summary>A database inside a PostgreSQL server, created once the server is ready.</summary>
public sealed class PostgresDatabaseResource : Resource, IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString, IResourceWithWaitSupport
{
    internal PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent, ReferenceExpression? existingConnectionString) : base(name)
    {
        DatabaseName = databaseName;
        Parent = parent;
        ExistingConnectionString = existingConnectionString;
        ConnectionStringExpression = existingConnectionString is not null
            ? existingConnectionString
            : ReferenceExpression.Create($"{parent.ConnectionStringExpression};Database={databaseName}");
    }

    public string DatabaseName { get; }

    public PostgresServerResource Parent { get; }

    public ReferenceExpression ConnectionStringExpression { get; }

    /// <summary>Set when <c>ConnectionStrings:{name}</c> names the database directly: it is used as it is.</summary>
    public ReferenceExpression? ExistingConnectionString { get; }
}
