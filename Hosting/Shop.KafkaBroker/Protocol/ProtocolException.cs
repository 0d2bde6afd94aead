namespace Shop.KafkaBroker.Protocol;

/// <summary>A request that cannot be decoded; the connection that sent it is closed.</summary>
public sealed class ProtocolException(string message) : Exception(message);
