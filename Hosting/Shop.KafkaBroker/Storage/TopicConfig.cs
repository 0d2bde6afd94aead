using System.Globalization;
using Shop.KafkaBroker.Configuration;

namespace Shop.KafkaBroker.Storage;

/// <summary>
/// A topic's effective configuration: its explicit overrides on top of the broker defaults. Only the
/// settings in <see cref="Enforced"/> change behaviour; <see cref="Accepted"/> ones are stored and
/// described (clients and tools set them) but a single node has nothing to do with them.
/// </summary>
public sealed record TopicConfig(
    long RetentionMs,
    long RetentionBytes,
    int SegmentBytes,
    long SegmentMs,
    bool LogAppendTime,
    int MaxMessageBytes,
    IReadOnlyDictionary<string, string> Overrides)
{
    public const string RetentionMsKey = "retention.ms";
    public const string RetentionBytesKey = "retention.bytes";
    public const string SegmentBytesKey = "segment.bytes";
    public const string SegmentMsKey = "segment.ms";
    public const long DefaultSegmentMs = 7L * 24 * 60 * 60 * 1000;
    public const string TimestampTypeKey = "message.timestamp.type";
    public const string MaxMessageBytesKey = "max.message.bytes";
    public const string CleanupPolicyKey = "cleanup.policy";

    private static readonly string[] Enforced =
        [CleanupPolicyKey, RetentionMsKey, RetentionBytesKey, SegmentBytesKey, SegmentMsKey, TimestampTypeKey, MaxMessageBytesKey];

    private static readonly Dictionary<string, string> Accepted = new()
    {
        ["compression.type"] = "producer",
        ["min.insync.replicas"] = "1",
        ["delete.retention.ms"] = "86400000",
        ["file.delete.delay.ms"] = "60000",
        ["flush.messages"] = "9223372036854775807",
        ["flush.ms"] = "9223372036854775807",
        ["index.interval.bytes"] = "4096",
        ["message.timestamp.difference.max.ms"] = "9223372036854775807",
        ["unclean.leader.election.enable"] = "false",
        ["message.downconversion.enable"] = "true",
        ["preallocate"] = "false",
    };

    public static TopicConfig Resolve(IReadOnlyDictionary<string, string> overrides, BrokerOptions defaults)
    {
        long Long(string key, long fallback) =>
            overrides.TryGetValue(key, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

        return new TopicConfig(
            Long(RetentionMsKey, defaults.RetentionMs),
            Long(RetentionBytesKey, defaults.RetentionBytes),
            (int)Long(SegmentBytesKey, defaults.SegmentBytes),
            Long(SegmentMsKey, DefaultSegmentMs),
            overrides.TryGetValue(TimestampTypeKey, out var type) && type == "LogAppendTime",
            // A topic stored before the cap existed must not accept what recovery would cut.
            (int)Math.Clamp(Long(MaxMessageBytesKey, defaults.MaxMessageBytes), 0, RecordBatch.MaxStoredBatchBytes),
            overrides);
    }

    /// <summary>Returns why a config cannot be set, or null when it is fine.</summary>
    public static string? Validate(string name, string? value)
    {
        if (value is null)
        {
            return $"Config {name} needs a value.";
        }

        return name switch
        {
            CleanupPolicyKey => value == "delete" ? null : "Only cleanup.policy=delete is supported (log compaction is not implemented).",
            RetentionMsKey or RetentionBytesKey =>
                long.TryParse(value, CultureInfo.InvariantCulture, out var l) && l >= -1 ? null : $"{name} must be an integer >= -1.",
            SegmentMsKey =>
                long.TryParse(value, CultureInfo.InvariantCulture, out var ms) && ms >= 1 ? null : "segment.ms must be a positive integer.",
            SegmentBytesKey =>
                int.TryParse(value, CultureInfo.InvariantCulture, out var s) && s >= 14 ? null : "segment.bytes must be an integer >= 14.",
            MaxMessageBytesKey =>
                int.TryParse(value, CultureInfo.InvariantCulture, out var m) && m is >= 0 and <= RecordBatch.MaxStoredBatchBytes
                    ? null
                    : $"max.message.bytes must be an integer from 0 to {RecordBatch.MaxStoredBatchBytes}.",
            TimestampTypeKey => value is "CreateTime" or "LogAppendTime" ? null : "message.timestamp.type must be CreateTime or LogAppendTime.",
            _ when Accepted.ContainsKey(name) => null,
            _ => $"Unknown topic config name: {name}.",
        };
    }

    /// <summary>Every describable config with its value and whether it is an explicit override.</summary>
    public IEnumerable<(string Name, string Value, bool IsDefault)> Describe()
    {
        (string, string, bool) Entry(string name, string fallback) =>
            Overrides.TryGetValue(name, out var v) ? (name, v, false) : (name, fallback, true);

        yield return Entry(CleanupPolicyKey, "delete");
        yield return Entry(RetentionMsKey, RetentionMs.ToString(CultureInfo.InvariantCulture));
        yield return Entry(RetentionBytesKey, RetentionBytes.ToString(CultureInfo.InvariantCulture));
        yield return Entry(SegmentBytesKey, SegmentBytes.ToString(CultureInfo.InvariantCulture));
        yield return Entry(SegmentMsKey, SegmentMs.ToString(CultureInfo.InvariantCulture));
        yield return Entry(TimestampTypeKey, "CreateTime");
        yield return Entry(MaxMessageBytesKey, MaxMessageBytes.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, fallback) in Accepted)
        {
            yield return Entry(name, fallback);
        }
    }

    public static bool IsKnown(string name) => Array.IndexOf(Enforced, name) >= 0 || Accepted.ContainsKey(name);
}
