namespace Shop.KafkaBroker.Handlers;

/// <summary>
/// One decoded request header plus what the connection knows about its client: its address and, when the broker
/// authenticates, the user it authenticated as.
/// </summary>
public readonly record struct RequestContext(
    short ApiVersion, int CorrelationId, string ClientId, string ClientHost, CancellationToken ConnectionClosed, string? Principal = null);

/// <summary>The address clients are told to use; the port is known once the listener is bound.</summary>
public sealed class BrokerEndpoint
{
    public string Host { get; set; } = "localhost";

    public int Port { get; set; }
}

/// <summary>A request whose API key or version the broker does not serve; the connection is closed.</summary>
public sealed class UnsupportedRequestException(string message) : Exception(message);

/// <summary>A request other than ApiVersions or SASL before the connection authenticated; the connection is closed.</summary>
public sealed class UnauthenticatedRequestException(string message) : Exception(message);
