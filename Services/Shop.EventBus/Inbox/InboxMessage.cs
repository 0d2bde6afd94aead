namespace Shop.EventBus;

/// <summary>
/// An event a handler has processed (table <c>event_bus_inbox</c>), written in the handler's transaction: a
/// redelivered event finds its row and is skipped.
/// </summary>
public sealed class InboxMessage
{
    public Guid EventId { get; init; }

    /// <summary>The handler's type name: each handler of an event records it on its own.</summary>
    public required string Handler { get; init; }

    public required string EventType { get; init; }

    public DateTimeOffset ProcessedAt { get; init; }
}
