using System.Diagnostics;

namespace Shop.EventBus;

/// <summary>W3C trace context carried from the code that saved an event, through the outbox and Kafka, to its handlers.</summary>
internal static class TraceContext
{
    private const int MaxTraceStateLength = 512;

    /// <summary>The current activity's <c>traceparent</c> and <c>tracestate</c>, if it uses W3C ids.</summary>
    public static (string? TraceParent, string? TraceState) Capture()
    {
        if (Activity.Current is not { IdFormat: ActivityIdFormat.W3C } activity)
        {
            return (null, null);
        }

        var state = activity.TraceStateString;
        return (activity.Id, state is { Length: > 0 and <= MaxTraceStateLength } ? state : null);
    }

    /// <summary>The remote parent described by the headers, or default when they are missing or malformed.</summary>
    public static ActivityContext Parse(string? traceParent, string? traceState) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context)
            ? context
            : default;

    /// <summary>
    /// Starts a span with exactly the given parent. With a default parent, <see cref="ActivitySource"/> would adopt
    /// <see cref="Activity.Current"/>; the relay and consumer loops must not nest one message's span in another's.
    /// </summary>
    public static Activity? StartSpan(string name, ActivityKind kind, ActivityContext parent, IEnumerable<ActivityLink>? links = null)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = EventBusTelemetry.ActivitySource.StartActivity(name, kind, parent, links: links);
        if (activity is null)
        {
            Activity.Current = previous;
        }

        return activity;
    }
}
