namespace Shop.EventBus;

/// <summary>
/// One integration event waiting in the service's database to be published (table <c>event_bus_outbox</c>). Added
/// with <c>context.AddIntegrationEvent(…)</c> and committed with the state change it describes; the relay
/// publishes pending rows in <see cref="Sequence"/> order and sets <see cref="SentAt"/>.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Assigned by the database on insert; the order rows are published in.</summary>
    public long Sequence { get; private set; }

    public Guid EventId { get; init; }

    public required string EventType { get; init; }

    public required string Topic { get; init; }

    /// <summary>The Kafka message key: events with the same key land on one partition, in order.</summary>
    public required string PartitionKey { get; init; }

    /// <summary>The event as JSON, published byte for byte.</summary>
    public required string Payload { get; init; }

    /// <summary>W3C trace context of the activity that added the event, so publishing continues its trace.</summary>
    public string? TraceParent { get; init; }

    public string? TraceState { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When Kafka acknowledged the event; null while pending.</summary>
    public DateTimeOffset? SentAt { get; private set; }
}
