using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>A Kafka broker: the project's own Kafka-wire-compatible broker as a child process, or an existing cluster.</summary>
public sealed class KafkaServerResource : Resource, IResourceWithConnectionString, IResourceWithEndpoints, IResourceWithEnvironment, IResourceWithWaitSupport
{
    internal const string PrimaryEndpointName = "tcp";

    internal KafkaServerResource(string name, ReferenceExpression? existingConnectionString) : base(name)
    {
        ExistingConnectionString = existingConnectionString;
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

    internal bool IsPersistent { get; set; }
}
