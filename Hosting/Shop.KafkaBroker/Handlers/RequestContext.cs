namespace Shop.KafkaBroker.Handlers;

/// <summary>One decoded request header plus what the connection knows about its client.</summary>
public readonly record struct RequestContext(short ApiVersion, int CorrelationId, string ClientId, string ClientHost, CancellationToken ConnectionClosed);

/// <summary>The address clients are told to use; the port is known once the listener is bound.</summary>
public sealed class BrokerEndpoint
{
    public string Host { get; set; } = "localhost";

    public int Port { get; set; }
}

/// <summary>A request whose API key or version the broker does not serve; the connection is closed.</summary>
public sealed class UnsupportedRequestException(string message) : Exception(message);
