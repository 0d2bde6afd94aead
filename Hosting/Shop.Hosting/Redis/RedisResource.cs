using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>A Redis server: Debian's redis-server run as a child process, or an existing one.</summary>
public sealed class RedisResource : Resource, IResourceWithConnectionString, IResourceWithEndpoints, IResourceWithWaitSupport
{
    internal const string PrimaryEndpointName = "tcp";

    internal RedisResource(string name, ParameterResource password, ReferenceExpression? existingConnectionString) : base(name)
    {
        PasswordParameter = password;
        ExistingConnectionString = existingConnectionString;
        PrimaryEndpoint = new EndpointReference(this, PrimaryEndpointName);
        ConnectionStringExpression = existingConnectionString is not null
            ? existingConnectionString
            : ReferenceExpression.Create(
                $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={PasswordParameter}");
    }

    public ParameterResource PasswordParameter { get; }

    public EndpointReference PrimaryEndpoint { get; }

    public ReferenceExpression ConnectionStringExpression { get; }

    public ReferenceExpression? ExistingConnectionString { get; }

    internal bool IsPersistent { get; set; }
}
