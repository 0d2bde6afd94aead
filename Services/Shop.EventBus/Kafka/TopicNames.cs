using System.Reflection;

namespace Shop.EventBus;

/// <summary>Which topic an event type goes to, and what Kafka accepts as a topic name.</summary>
internal static class TopicNames
{
    public const int MaxLength = 249;

    /// <summary>
    /// <c>{prefix}{topic}</c> where topic is the <see cref="IntegrationEventTopicAttribute"/> of the type, or the type's name.
    /// </summary>
    public static string For(Type eventType, string prefix)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        var stream = eventType.GetCustomAttribute<IntegrationEventTopicAttribute>(inherit: true)?.Topic ?? eventType.Name;
        var topic = prefix + stream;
        if (!IsValid(topic))
        {
            throw new InvalidOperationException(
                $"'{topic}', the topic of {eventType.Name}, is not a valid Kafka topic name: use at most {MaxLength} letters, digits, '.', '_' or '-'.");
        }

        return topic;
    }

    public static bool IsValid(string topic) =>
        topic.Length is > 0 and <= MaxLength && topic is not "." and not ".." && IsValidPart(topic);

    public static bool IsValidPart(string part) =>
        part.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
