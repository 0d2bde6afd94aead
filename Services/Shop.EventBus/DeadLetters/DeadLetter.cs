namespace Shop.EventBus;

/// <summary>
/// A message this service's consumer gave up on (table <c>event_bus_dead_letters</c>), stored from the
/// dead-letter topic with the error and origin from its headers, so it can be listed and replayed.
/// </summary>
public sealed class DeadLetter
{
    public Guid Id { get; init; }

    /// <summary>Where the dead letter itself sits: topic, partition and offset of the dead-letter topic (unique).</summary>
    public required string DeadLetterTopic { get; init; }

    public int DeadLetterPartition { get; init; }

    public long DeadLetterOffset { get; init; }

    public Guid? EventId { get; init; }

    public string? EventType { get; init; }

    public required string OriginTopic { get; init; }

    public int OriginPartition { get; init; }

    public long OriginOffset { get; init; }

    public string? Key { get; init; }

    /// <summary>The message value exactly as it was consumed.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>The original message's headers as a JSON object (trace context, event type and id).</summary>
    public required string Headers { get; init; }

    /// <summary>The failure's chain of messages, outermost first, each inner one with its type: the root cause comes last.</summary>
    public required string Error { get; init; }

    /// <summary>The type of the outermost exception (the handler's, or what saving its changes threw).</summary>
    public required string ExceptionType { get; init; }

    public string? Handler { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset FailedAt { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>
    /// When a replay last processed the message, or first found it already processed; null while it waits.
    /// </summary>
    public DateTimeOffset? ReplayedAt { get; set; }

    /// <summary>Replays that processed the message or failed again; one that found every handler done is not counted.</summary>
    public int ReplayCount { get; set; }

    public string? LastReplayError { get; set; }
}
