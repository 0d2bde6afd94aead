using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Kafka;

namespace Shop.Hosting;

/// <summary>
/// A Kafka broker: the project's own Kafka-wire-compatible broker as a child process, or an existing cluster. The
/// broker it runs requires SASL/PLAIN: an admin user and one user per referencing resource, each with a generated
/// password and the topics it may write to.
/// </summary>
public sealed class KafkaServerResource : Resource, IResourceWithConnectionString, IResourceWithEndpoints, IResourceWithEnvironment, IResourceWithWaitSupport
{
    /// <summary>The super user tools and tests authenticate as.</summary>
    public const string AdminUserName = "admin";

    internal const string PrimaryEndpointName = "tcp";

    private readonly Dictionary<string, KafkaUser> _users = new(StringComparer.Ordinal);

    internal KafkaServerResource(string name, ReferenceExpression? existingConnectionString, ParameterResource? adminPassword) : base(name)
    {
        ExistingConnectionString = existingConnectionString;
        AdminPasswordParameter = adminPassword;
        PrimaryEndpoint = new EndpointReference(this, PrimaryEndpointName);
        // Bootstrap servers, as Aspire gives them: host:port.
        ConnectionStringExpression = existingConnectionString is not null
            ? existingConnectionString
            : ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
    }

    public EndpointReference PrimaryEndpoint { get; }

    public ReferenceExpression ConnectionStringExpression { get; }

    /// <summary>Set when <c>ConnectionStrings:{name}</c> points at an existing cluster: nothing is started.</summary>
    public ReferenceExpression? ExistingConnectionString { get; }

    /// <summary>
    /// The password of <see cref="AdminUserName"/>; null for an existing cluster, whose security the user configures
    /// (nothing about SASL is imposed on it or on the resources that reference it).
    /// </summary>
    public ParameterResource? AdminPasswordParameter { get; }

    /// <summary>Whether clients must authenticate with SASL/PLAIN: true for the broker the AppHost runs.</summary>
    public bool RequiresAuthentication => AdminPasswordParameter is not null;

    /// <summary>The users of referencing resources, by name (the resource's name).</summary>
    public IReadOnlyCollection<KafkaUser> Users => _users.Values;

    internal bool IsPersistent { get; set; }

    internal KafkaUser GetOrAddUser(string name, Func<ParameterResource> createPassword)
    {
        if (string.Equals(name, AdminUserName, StringComparison.Ordinal))
        {
            throw new DistributedApplicationException(
                $"A resource named '{AdminUserName}' cannot get a Kafka user of its own on '{Name}': that name is the broker's super user. Rename the resource.");
        }

        if (!_users.TryGetValue(name, out var user))
        {
            user = new KafkaUser(name, createPassword());
            _users.Add(name, user);
        }

        return user;
    }
}
