using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Shop.Confluent.Kafka;

/// <summary>
/// What one client's librdkafka errors and log lines become in the service's log. While the brokers are down
/// librdkafka reports every failed connection attempt, each through both its error and its log callback; logged
/// as they come, that is a stream of identical lines that hides everything else. Instead:
/// <list type="bullet">
/// <item>The first connection error of an outage is a warning naming the broker and the reason; further connection
/// errors go to Debug, and every <see cref="SummaryInterval"/> a warning counts them.</item>
/// <item>When the client's statistics show every broker that failed up again (or gone from the cluster), one
/// information line says so, with how long the outage lasted and how many errors it brought.</item>
/// <item>Any other error, and any librdkafka warning, is logged the first time; its repeats likewise go to Debug and
/// are counted every <see cref="SummaryInterval"/>.</item>
/// <item>Fatal errors are always logged, as Critical.</item>
/// </list>
/// librdkafka's own error line for each failed connection (facility FAIL) goes to Debug: the error callback reports it.
/// </summary>
internal sealed partial class KafkaClientLog(ILogger logger, string bootstrapServers, TimeProvider timeProvider)
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Repeats> _repeats = new(StringComparer.Ordinal);

    // Brokers that failed during the outage and have not been seen up since.
    private readonly HashSet<string> _down = new(StringComparer.Ordinal);
    private Repeats? _outage;

    public void Error(string client, Error error)
    {
        if (error.IsFatal)
        {
            LogFatal(logger, client, error.Code, error.Reason);
            return;
        }

        lock (_lock)
        {
            var now = timeProvider.GetTimestamp();
            if (!IsConnectionError(error.Code))
            {
                var (first, summary) = Occurred($"error {error.Code}", now);
                if (first)
                {
                    LogError(logger, client, error.Code, error.Reason);
                    return;
                }

                LogRepeatedError(logger, client, error.Code, error.Reason);
                if (summary is { } due)
                {
                    LogErrorsSummary(logger, due.Count, client, error.Code, due.Window.TotalSeconds, error.Reason);
                }

                return;
            }

            var broker = BrokerOf(error.Reason);
            if (broker is not null)
            {
                _down.Add(broker);
            }

            if (_outage is null)
            {
                _outage = new Repeats(now);
                LogOutage(logger, client, broker ?? bootstrapServers, broker is null ? error.Reason : error.Reason[(broker.Length + 2)..],
                    error.Code, SummaryInterval.TotalSeconds);
                return;
            }

            LogRepeatedError(logger, client, error.Code, error.Reason);
            if (_outage.Repeat(timeProvider, now) is { } outageSummary)
            {
                LogOutageSummary(logger, outageSummary.Count, client, outageSummary.Window.TotalSeconds, error.Reason);
            }
        }
    }

    public void Log(LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
            SyslogLevel.Error or SyslogLevel.Warning when message.Facility == "FAIL" => LogLevel.Debug,
            SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        if (level is not (LogLevel.Warning or LogLevel.Error))
        {
            if (logger.IsEnabled(level))
            {
                LogLibrdkafka(logger, level, message.Name, message.Facility, message.Message);
            }

            return;
        }

        lock (_lock)
        {
            var (first, summary) = Occurred($"log {message.Facility}", timeProvider.GetTimestamp());
            LogLibrdkafka(logger, first ? level : LogLevel.Debug, message.Name, message.Facility, message.Message);
            if (summary is { } due)
            {
                LogLinesSummary(logger, due.Count, message.Name, message.Facility, due.Window.TotalSeconds, message.Message);
            }
        }
    }

    /// <summary>Takes the client's statistics (JSON): the outage ends once every broker that failed is up or gone.</summary>
    public void Statistics(string json)
    {
        lock (_lock)
        {
            if (_outage is null)
            {
                return;
            }

            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (!root.TryGetProperty("brokers", out var brokers))
            {
                return;
            }

            string? up = null;
            var known = new HashSet<string>(StringComparer.Ordinal);
            foreach (var broker in brokers.EnumerateObject())
            {
                known.Add(broker.Name);
                if (broker.Value.TryGetProperty("state", out var state) && state.ValueEquals("UP"u8))
                {
                    up ??= broker.Name;
                    _down.Remove(broker.Name);
                }
            }

            _down.RemoveWhere(broker => !known.Contains(broker));
            if (up is null || _down.Count > 0)
            {
                return;
            }

            var client = root.TryGetProperty("name", out var name) ? name.GetString() ?? "" : "";
            LogRecovered(logger, client, up, timeProvider.GetElapsedTime(_outage.Since).TotalSeconds, _outage.Total);
            _outage = null;
            // The next outage, or the next error of any kind, is news again.
            _repeats.Clear();
        }
    }

    private static bool IsConnectionError(ErrorCode code) => code is ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown
        or ErrorCode.Local_Resolve or ErrorCode.Local_Authentication or ErrorCode.Local_Ssl or ErrorCode.Local_TimedOut;

    /// <summary>librdkafka starts a broker's errors with the broker's name (<c>host:port/id</c>, <c>GroupCoordinator</c>).</summary>
    private static string? BrokerOf(string reason)
    {
        var end = reason.IndexOf(": ", StringComparison.Ordinal);
        return end > 0 && !reason.AsSpan(0, end).Contains(' ') ? reason[..end] : null;
    }

    /// <returns>Whether it is the first of its kind (to log in full), else the repeats to summarise now, if any.</returns>
    private (bool First, (int Count, TimeSpan Window)? Summary) Occurred(string key, long now)
    {
        if (!_repeats.TryGetValue(key, out var repeats) || repeats.IsStale(timeProvider, now))
        {
            _repeats[key] = new Repeats(now);
            return (true, null);
        }

        return (false, repeats.Repeat(timeProvider, now));
    }

    /// <summary>Repeats of one kind of error since its first: counted, and summarised at most every <see cref="SummaryInterval"/>.</summary>
    private sealed class Repeats(long since)
    {
        private long _windowStart = since;
        private int _inWindow;

        public long Since { get; } = since;

        public int Total { get; private set; }

        /// <summary>Counts a repeat; returns the repeats to summarise once the window is over.</summary>
        public (int Count, TimeSpan Window)? Repeat(TimeProvider timeProvider, long now)
        {
            Total++;
            _inWindow++;
            var window = timeProvider.GetElapsedTime(_windowStart, now);
            if (window < SummaryInterval)
            {
                return null;
            }

            var count = _inWindow;
            _inWindow = 0;
            _windowStart = now;
            return (count, window);
        }

        /// <summary>No repeat for a whole window: the next one is news, not a repeat.</summary>
        public bool IsStale(TimeProvider timeProvider, long now) => _inWindow == 0 && timeProvider.GetElapsedTime(_windowStart, now) >= SummaryInterval;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Kafka client {Client} fatal error {Code}: {Reason}")]
    private static partial void LogFatal(ILogger logger, string client, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka client {Client} cannot reach {Broker}: {Reason} ({Code}). Until it is back, further connection errors are logged at Debug and counted every {SummarySeconds:0} s")]
    private static partial void LogOutage(ILogger logger, string client, string broker, string reason, ErrorCode code, double summarySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka client {Client} still cannot reach the cluster: {Count} more connection errors in the last {Seconds:0} s; the latest: {Reason}")]
    private static partial void LogOutageSummary(ILogger logger, int count, string client, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka client {Client} is connected again ({Broker} is up) after {Seconds:0.0} s and {Errors} further connection errors")]
    private static partial void LogRecovered(ILogger logger, string client, string broker, double seconds, int errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka client {Client} error {Code}: {Reason}")]
    private static partial void LogError(ILogger logger, string client, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka client {Client} error {Code} again: {Reason}")]
    private static partial void LogRepeatedError(ILogger logger, string client, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} more Kafka client {Client} errors {Code} in the last {Seconds:0} s; the latest: {Reason}")]
    private static partial void LogErrorsSummary(ILogger logger, int count, string client, ErrorCode code, double seconds, string reason);

    [LoggerMessage(Message = "librdkafka {Client} {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, LogLevel level, string client, string facility, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} more librdkafka {Client} {Facility} lines in the last {Seconds:0} s; the latest: {Message}")]
    private static partial void LogLinesSummary(ILogger logger, int count, string client, string facility, double seconds, string message);
}
