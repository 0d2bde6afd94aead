using System.Text;
using Confluent.Kafka;

namespace Shop.EventBus;

/// <summary>The Kafka headers the bus writes and reads (values are UTF-8 text).</summary>
public static class EventBusHeaders
{
    public const string EventType = "event-type";
    public const string EventId = "event-id";
    public const string ContentType = "content-type";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    /// <summary>Every header a dead letter adds starts with this.</summary>
    public const string DeadLetterPrefix = "dead-letter-";
    public const string DeadLetterError = "dead-letter-error";
    public const string DeadLetterExceptionType = "dead-letter-exception-type";
    public const string DeadLetterRootError = "dead-letter-root-error";
    public const string DeadLetterRootExceptionType = "dead-letter-root-exception-type";
    public const string DeadLetterOriginTopic = "dead-letter-origin-topic";
    public const string DeadLetterOriginPartition = "dead-letter-origin-partition";
    public const string DeadLetterOriginOffset = "dead-letter-origin-offset";
    public const string DeadLetterAttempts = "dead-letter-attempts";
    public const string DeadLetterTime = "dead-letter-time";
    public const string DeadLetterGroup = "dead-letter-group";
    public const string DeadLetterHandler = "dead-letter-handler";

    internal const string JsonContentType = "application/json";

    internal static string? Get(Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : null;

    internal static void Set(Headers headers, string name, string value)
    {
        headers.Remove(name);
        headers.Add(name, Encoding.UTF8.GetBytes(value));
    }
}
