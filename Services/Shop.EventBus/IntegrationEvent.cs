using System.Text.Json.Serialization;

namespace Shop.EventBus;

/// <summary>
/// A fact one service tells the others, e.g. <c>public record OrderStartedIntegrationEvent(Guid OrderId) : IntegrationEvent;</c>.
/// Serialized as JSON; readers ignore fields they do not know, so a publisher can add fields without breaking
/// its consumers, and a consumer can declare its own copy of the record with only the fields it needs.
/// </summary>
public abstract record IntegrationEvent
{
    /// <summary>Unique per event; consumers record it in their inbox to ignore redeliveries.</summary>
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>When the event was created by its publisher (UTC).</summary>
    public DateTimeOffset CreationDate { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The name that routes the event to handlers: the record's type name, sent as the <c>event-type</c> header.</summary>
    [JsonIgnore]
    public string EventType => GetType().Name;
}

/// <summary>
/// Names the topic (the stream) an event is published to, e.g. <c>[IntegrationEventTopic("ordering.orders")]</c>.
/// Events of one aggregate that must be seen in order (started, then paid, then cancelled) belong on one topic with
/// the aggregate's id as partition key. Without this attribute an event gets a topic of its own, named after its type.
/// Publisher and consumers must agree, so declare it on the record both sides use.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true, AllowMultiple = false)]
public sealed class IntegrationEventTopicAttribute(string topic) : Attribute
{
    public string Topic { get; } = topic;
}

/// <summary>Handles one type of integration event inside the transaction that also records it in the inbox.</summary>
/// <remarks>
/// The handler gets the service's DbContext from dependency injection (the same scoped instance the bus uses).
/// The bus opens the transaction, saves the context's pending changes after <see cref="Handle"/> returns and commits,
/// so the handler's database changes, the events it adds with <c>AddIntegrationEvent</c> and the inbox record
/// commit together. Effects outside the database (e.g. calling a payment gateway) must be idempotent on their own,
/// keyed by <see cref="IntegrationEvent.Id"/>: a failed commit retries the handler.
/// </remarks>
public interface IIntegrationEventHandler<in TEvent> where TEvent : IntegrationEvent
{
    Task Handle(TEvent @event, CancellationToken cancellationToken);
}
