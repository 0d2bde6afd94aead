using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Shop.EventBus;

/// <summary>Turns an event into its outbox row: JSON payload, topic, key, the caller's trace context and the time.</summary>
internal sealed class OutboxWriter(IntegrationEventSerializer serializer, IOptions<EventBusOptions> options, TimeProvider timeProvider)
{
    public const int MaxPartitionKeyLength = 200;

    private readonly ConcurrentDictionary<Type, string> _topics = new();

    public OutboxMessage Create(IntegrationEvent @event, string? partitionKey)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var key = partitionKey ?? @event.Id.ToString();
        if (key.Length is 0 or > MaxPartitionKeyLength)
        {
            throw new ArgumentException($"The partition key must have 1 to {MaxPartitionKeyLength} characters.", nameof(partitionKey));
        }

        var (traceParent, traceState) = TraceContext.Capture();
        return new OutboxMessage
        {
            EventId = @event.Id,
            EventType = @event.EventType,
            Topic = TopicOf(@event.GetType()),
            PartitionKey = key,
            Payload = serializer.Serialize(@event),
            TraceParent = traceParent,
            TraceState = traceState,
            CreatedAt = timeProvider.GetUtcNow(),
        };
    }

    public string TopicOf(Type eventType) => _topics.GetOrAdd(eventType, static (type, prefix) => TopicNames.For(type, prefix), options.Value.TopicPrefix);
}
