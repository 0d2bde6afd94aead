using System.Diagnostics.CodeAnalysis;

namespace Shop.EventBus;

/// <summary>A handler of one event type, invoked with the scope's services.</summary>
internal sealed record HandlerRegistration(
    string Name,
    Type HandlerType,
    Func<IServiceProvider, IntegrationEvent, CancellationToken, Task> Invoke);

/// <summary>An event type this service handles, routed by its name (the <c>event-type</c> header).</summary>
internal sealed class EventSubscription(string name, Type eventType)
{
    private readonly List<HandlerRegistration> _handlers = [];

    public string Name { get; } = name;

    public Type EventType { get; } = eventType;

    public IReadOnlyList<HandlerRegistration> Handlers => _handlers;

    public void Add(HandlerRegistration handler) => _handlers.Add(handler);
}

/// <summary>Which handlers run for which event type; filled by <c>AddSubscription</c> before the host is built.</summary>
internal sealed class SubscriptionRegistry
{
    private readonly Dictionary<string, EventSubscription> _subscriptions = new(StringComparer.Ordinal);

    public bool IsEmpty => _subscriptions.Count == 0;

    public IEnumerable<Type> EventTypes => _subscriptions.Values.Select(s => s.EventType);

    public void Add(Type eventType, HandlerRegistration handler)
    {
        if (!_subscriptions.TryGetValue(eventType.Name, out var subscription))
        {
            subscription = new EventSubscription(eventType.Name, eventType);
            _subscriptions.Add(eventType.Name, subscription);
        }
        else if (subscription.EventType != eventType)
        {
            throw new InvalidOperationException(
                $"Two event types are named {eventType.Name} ({subscription.EventType.FullName} and {eventType.FullName}); " +
                "events are routed by type name, so rename one.");
        }

        if (subscription.Handlers.Any(h => h.HandlerType == handler.HandlerType))
        {
            throw new InvalidOperationException($"{handler.HandlerType.Name} is already subscribed to {eventType.Name}.");
        }

        subscription.Add(handler);
    }

    public bool TryGet(string eventType, [MaybeNullWhen(false)] out EventSubscription subscription) =>
        _subscriptions.TryGetValue(eventType, out subscription);
}
