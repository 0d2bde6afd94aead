namespace Shop.KafkaBroker.Security;

/// <summary>
/// A SASL/PLAIN user: its password and the topics it may write to (produce to, delete, add partitions to). A super
/// user may do everything, as a principal in Kafka's <c>super.users</c>.
/// </summary>
public sealed record BrokerUser(string Name, string Password, IReadOnlyList<TopicPattern> Write, bool SuperUser)
{
    /// <summary>Never the password: options are records, and records print their properties.</summary>
    public override string ToString() => $"{Name} (write: {(SuperUser ? "everything" : string.Join(", ", Write))})";
}

/// <summary>A topic name (literal), or a prefix written with a trailing <c>*</c> (<c>crash.*</c>; <c>*</c> alone is every topic).</summary>
public readonly record struct TopicPattern(string Value, bool IsPrefix)
{
    public static TopicPattern Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var trimmed = text.Trim();
        return trimmed.EndsWith('*') ? new TopicPattern(trimmed[..^1], IsPrefix: true) : new TopicPattern(trimmed, IsPrefix: false);
    }

    public bool Matches(string topic) =>
        IsPrefix ? topic.StartsWith(Value, StringComparison.Ordinal) : string.Equals(topic, Value, StringComparison.Ordinal);

    public override string ToString() => IsPrefix ? Value + "*" : Value;
}
