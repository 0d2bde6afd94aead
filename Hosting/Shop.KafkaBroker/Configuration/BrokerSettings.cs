using System.Globalization;
using Microsoft.Extensions.Configuration;
using Shop.KafkaBroker.Security;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Configuration;

/// <summary>A setting with a bad value; reported as one line and exit code 2.</summary>
public sealed class BrokerConfigurationException(string message) : Exception(message);

/// <summary>
/// The broker's settings: one table drives the command line, the configuration keys
/// (<c>KafkaBroker:Port</c>, env <c>KafkaBroker__Port</c>), validation and the usage text.
/// </summary>
public static class BrokerSettings
{
    private const string UsersSection = "Sasl:Users";

    private sealed record Setting(string Option, string Key, string Value, string Help, Func<BrokerOptions, string, BrokerOptions> Apply);

    private static readonly Setting[] Settings =
    [
        new("port", "Port", "N", "TCP port to listen on; 0 picks a free port (default 9092)",
            (o, v) => o with { Port = ParseInt(v, "port", 0, 65535) }),
        new("host", "Host", "ADDR", "address to bind (default 127.0.0.1; 0.0.0.0 for all interfaces)",
            (o, v) => o with { Host = ParseAddress(v) }),
        new("advertised-host", "AdvertisedHost", "HOST", "host name clients are told to connect to (default: the bind address)",
            (o, v) => o with { AdvertisedHost = NonEmpty(v, "advertised-host") }),
        new("data-dir", "DataDir", "DIR", "directory for logs, offsets and metadata (default ./kafka-data)",
            (o, v) => o with { DataDir = NonEmpty(v, "data-dir") }),
        new("node-id", "NodeId", "N", "broker node id (default 1)",
            (o, v) => o with { NodeId = ParseInt(v, "node-id", 0, int.MaxValue) }),
        new("retention-ms", "RetentionMs", "MS", "default retention.ms of topics; -1 = forever (default 7 days)",
            (o, v) => o with { RetentionMs = ParseLong(v, "retention-ms", -1) }),
        new("retention-bytes", "RetentionBytes", "BYTES", "default retention.bytes per partition; -1 = unlimited (default -1)",
            (o, v) => o with { RetentionBytes = ParseLong(v, "retention-bytes", -1) }),
        new("segment-bytes", "SegmentBytes", "BYTES", "default segment.bytes (default 134217728)",
            (o, v) => o with { SegmentBytes = ParseInt(v, "segment-bytes", 14, int.MaxValue) }),
        new("flush", "Flush", "always|interval", "fsync before every acknowledgement (group commit) or on an interval (default always)",
            (o, v) => o with { Flush = ParseFlush(v) }),
        new("flush-interval-ms", "FlushIntervalMs", "MS", "fsync period with --flush interval (default 1000)",
            (o, v) => o with { FlushIntervalMs = ParseInt(v, "flush-interval-ms", 1, int.MaxValue) }),
        new("auto-create-topics", "AutoCreateTopics", "true|false", "create unknown topics when a producer asks for them (default true)",
            (o, v) => o with { AutoCreateTopics = ParseBool(v, "auto-create-topics") }),
        new("default-partitions", "DefaultPartitions", "N", "partitions of auto-created topics (default 1)",
            (o, v) => o with { DefaultPartitions = ParseInt(v, "default-partitions", 1, 10_000) }),
        new("max-partitions-per-topic", "MaxPartitionsPerTopic", "N", "most partitions a topic may have; each holds an open file (default 1000)",
            (o, v) => o with { MaxPartitionsPerTopic = ParseInt(v, "max-partitions-per-topic", 1, 100_000) }),
        new("max-request-bytes", "MaxRequestBytes", "BYTES", "largest request accepted; bigger frames close the connection (default 104857600)",
            (o, v) => o with { MaxRequestBytes = ParseInt(v, "max-request-bytes", 1024, int.MaxValue) }),
        new("max-message-bytes", "MaxMessageBytes", "BYTES", "default max.message.bytes of a record batch, at most 268435456 (default 1048588)",
            (o, v) => o with { MaxMessageBytes = ParseInt(v, "max-message-bytes", 128, RecordBatch.MaxStoredBatchBytes) }),
        new("fetch-max-bytes", "FetchMaxBytes", "BYTES", "most record bytes in one fetch response, whatever the client asks (default 57671680)",
            (o, v) => o with { FetchMaxBytes = ParseInt(v, "fetch-max-bytes", 1024, int.MaxValue) }),
        new("max-connections", "MaxConnections", "N", "open client connections at most; more are closed at once (default 1000)",
            (o, v) => o with { MaxConnections = ParseInt(v, "max-connections", 1, int.MaxValue) }),
        new("connections-max-idle-ms", "ConnectionsMaxIdleMs", "MS", "close a connection idle this long (default 600000)",
            (o, v) => o with { ConnectionsMaxIdleMs = ParseInt(v, "connections-max-idle-ms", 100, int.MaxValue) }),
        new("sasl-authentication-timeout-ms", "SaslAuthenticationTimeoutMs", "MS", "with users, close a connection not authenticated this long after it opened (default 10000)",
            (o, v) => o with { SaslAuthenticationTimeoutMs = ParseInt(v, "sasl-authentication-timeout-ms", 100, int.MaxValue) }),
        new("group-initial-rebalance-delay-ms", "GroupInitialRebalanceDelayMs", "MS", "wait for more members before the first rebalance of an empty group (default 300)",
            (o, v) => o with { GroupInitialRebalanceDelayMs = ParseInt(v, "group-initial-rebalance-delay-ms", 0, 300_000) }),
        new("group-min-session-timeout-ms", "GroupMinSessionTimeoutMs", "MS", "smallest session.timeout.ms accepted (default 1000)",
            (o, v) => o with { GroupMinSessionTimeoutMs = ParseInt(v, "group-min-session-timeout-ms", 1, int.MaxValue) }),
        new("group-max-session-timeout-ms", "GroupMaxSessionTimeoutMs", "MS", "largest session.timeout.ms accepted (default 1800000)",
            (o, v) => o with { GroupMaxSessionTimeoutMs = ParseInt(v, "group-max-session-timeout-ms", 1, int.MaxValue) }),
        new("retention-check-interval-ms", "RetentionCheckIntervalMs", "MS", "how often retention deletes old segments (default 30000)",
            (o, v) => o with { RetentionCheckIntervalMs = ParseInt(v, "retention-check-interval-ms", 100, int.MaxValue) }),
    ];

    public static string Usage
    {
        get
        {
            var lines = new List<string>
            {
                "Usage: Shop.KafkaBroker [options]",
                "",
                "A single-node broker speaking the Kafka wire protocol (Kafka clients use it unchanged).",
                "Every option can also be set as configuration, e.g. environment KafkaBroker__Port=9092;",
                "the command line wins.",
                "",
                "Options:",
            };
            foreach (var setting in Settings)
            {
                lines.Add($"  --{setting.Option} {setting.Value}".PadRight(46) + setting.Help);
            }

            lines.Add("  --help".PadRight(46) + "show this text");
            lines.AddRange(
            [
                "",
                "Authentication (configuration only, never the command line):",
                "  KafkaBroker__Sasl__Users__NAME__Password=…   a SASL/PLAIN user; with any user the listener is SASL_PLAINTEXT",
                "  KafkaBroker__Sasl__Users__NAME__Write=a,b.*   topics NAME may produce to (a trailing * is a prefix)",
                "  KafkaBroker__Sasl__Users__NAME__SuperUser=true   NAME may do everything",
            ]);
            return string.Join(Environment.NewLine, lines);
        }
    }

    /// <summary>Turns <c>--name value</c> / <c>--name=value</c> into configuration keys; throws on anything unknown.</summary>
    public static Dictionary<string, string?> ParseCommandLine(IReadOnlyList<string> args, out bool helpRequested)
    {
        helpRequested = false;
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?")
            {
                helpRequested = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new BrokerConfigurationException($"unexpected argument '{arg}' (see --help)");
            }

            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            var setting = Array.Find(Settings, s => string.Equals(s.Option, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new BrokerConfigurationException($"unknown option '--{name}' (see --help)");
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new BrokerConfigurationException($"option '--{name}' needs a value ({setting.Value})");
                }

                value = args[++i];
            }

            setting.Apply(new BrokerOptions(), value);
            values[$"{BrokerOptions.SectionName}:{setting.Key}"] = value;
        }

        return values;
    }

    /// <summary>Reads and validates the <c>KafkaBroker</c> section.</summary>
    public static BrokerOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(BrokerOptions.SectionName);
        var options = new BrokerOptions();
        foreach (var setting in Settings)
        {
            var value = section[setting.Key];
            if (value is not null)
            {
                options = setting.Apply(options, value);
            }
        }

        options = options with { Users = ReadUsers(section.GetSection(UsersSection)) };
        if (options.DefaultPartitions > options.MaxPartitionsPerTopic)
        {
            throw new BrokerConfigurationException("default-partitions must not exceed max-partitions-per-topic");
        }

        if (options.GroupMinSessionTimeoutMs > options.GroupMaxSessionTimeoutMs)
        {
            throw new BrokerConfigurationException("group-min-session-timeout-ms must not exceed group-max-session-timeout-ms");
        }

        return options;
    }

    /// <summary>
    /// <c>KafkaBroker:Sasl:Users:{name}</c> with <c>Password</c>, <c>Write</c> (topics, a trailing <c>*</c> for a prefix;
    /// a list or one comma-separated value) and <c>SuperUser</c>. Only configuration, never the command line: passwords
    /// do not belong where <c>ps</c> shows them.
    /// </summary>
    private static List<BrokerUser> ReadUsers(IConfigurationSection users)
    {
        var result = new List<BrokerUser>();
        foreach (var user in users.GetChildren())
        {
            var name = user.Key;
            if (name.Any(char.IsControl))
            {
                throw new BrokerConfigurationException($"SASL user name '{name}' contains a control character");
            }

            var password = user["Password"];
            if (string.IsNullOrEmpty(password))
            {
                throw new BrokerConfigurationException($"SASL user '{name}' has no password: set {BrokerOptions.SectionName}:{UsersSection}:{name}:Password");
            }

            var write = user.GetSection("Write");
            var topics = write.Value is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : write.GetChildren().Select(c => c.Value).OfType<string>().Where(v => !string.IsNullOrWhiteSpace(v)).ToArray();
            var superUser = user["SuperUser"] is { } flag && ParseBool(flag, $"{UsersSection}:{name}:SuperUser");
            result.Add(new BrokerUser(name, password, [.. topics.Select(TopicPattern.Parse)], superUser));
        }

        return result;
    }

    private static int ParseInt(string value, string name, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max
            ? result
            : throw new BrokerConfigurationException($"invalid value '{value}' for {name}: expected an integer from {min} to {max}");

    private static long ParseLong(string value, string name, long min) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min
            ? result
            : throw new BrokerConfigurationException($"invalid value '{value}' for {name}: expected an integer >= {min}");

    private static bool ParseBool(string value, string name) =>
        bool.TryParse(value, out var result)
            ? result
            : throw new BrokerConfigurationException($"invalid value '{value}' for {name}: expected true or false");

    private static FlushPolicy ParseFlush(string value) => value.ToLowerInvariant() switch
    {
        "always" => FlushPolicy.Always,
        "interval" => FlushPolicy.Interval,
        _ => throw new BrokerConfigurationException($"invalid value '{value}' for flush: expected always or interval"),
    };

    private static string ParseAddress(string value) =>
        value is "0.0.0.0" or "::" or "localhost" || System.Net.IPAddress.TryParse(value, out _)
            ? value
            : throw new BrokerConfigurationException($"invalid value '{value}' for host: expected an IP address, 0.0.0.0 or localhost");

    private static string NonEmpty(string value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw new BrokerConfigurationException($"{name} must not be empty") : value;
}
