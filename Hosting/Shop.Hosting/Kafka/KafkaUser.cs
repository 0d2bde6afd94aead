namespace Shop.Hosting.Kafka;

/// <summary>
/// A SASL/PLAIN user of the broker the AppHost runs: one per resource referencing it, named after the resource, with
/// a generated password (parameter <c>{kafka}-{resource}-password</c>) and the topics it may produce to. Reading,
/// consumer groups and creating topics are open to every user.
/// </summary>
public sealed class KafkaUser(string name, ParameterResource password)
{
    private readonly List<string> _writeTopics = [];

    public string Name { get; } = name;

    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>Topic names, or prefixes ending with <c>*</c>.</summary>
    public IReadOnlyList<string> WriteTopics => _writeTopics;

    internal void AllowWrite(IEnumerable<string> topics)
    {
        foreach (var topic in topics)
        {
            if (!_writeTopics.Contains(topic, StringComparer.Ordinal))
            {
                _writeTopics.Add(topic);
            }
        }
    }
}

/// <summary>
/// The configuration keys, as environment variables, through which Shop.Confluent.Kafka's <c>AddKafkaProducer</c> and
/// <c>AddKafkaConsumer</c> bind librdkafka settings (<c>Kafka:Producer:Config</c>, <c>Kafka:Consumer:Config</c>), and
/// through which the broker reads its users (<c>KafkaBroker:Sasl:Users</c>).
/// </summary>
internal static class KafkaEnvironment
{
    public static readonly string[] ClientConfigSections = ["Kafka__Producer__Config", "Kafka__Consumer__Config"];

    public const string SecurityProtocol = "SecurityProtocol";
    public const string SaslMechanism = "SaslMechanism";
    public const string SaslUsername = "SaslUsername";
    public const string SaslPassword = "SaslPassword";

    // Values of Confluent.Kafka's enums, as the configuration binder reads them.
    public const string SaslPlaintext = "SaslPlaintext";
    public const string Plain = "Plain";

    public static string BrokerUser(string user, string setting) => $"KafkaBroker__Sasl__Users__{user}__{setting}";
}
