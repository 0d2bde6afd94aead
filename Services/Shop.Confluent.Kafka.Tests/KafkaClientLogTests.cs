using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Shop.Testing;

namespace Shop.Confluent.Kafka.Tests;

/// <summary>
/// <see cref="KafkaClientLog"/> fed librdkafka's callbacks by hand, on a clock the test moves: what an outage of
/// minutes, too long for a test against the broker, leaves in the log.
/// </summary>
public sealed class KafkaClientLogTests
{
    private const string Client = "rdkafka#consumer-1";
    private const string Broker = "127.0.0.1:9092/1";

    private readonly ManualTime _time = new();
    private readonly LogCollector _log = new();
    private readonly KafkaClientLog _clientLog;

    public KafkaClientLogTests()
    {
        using var loggers = LoggerFactory.Create(logging => logging.AddProvider(_log).SetMinimumLevel(LogLevel.Debug));
        _clientLog = new KafkaClientLog(loggers.CreateLogger("kafka"), "127.0.0.1:9092", _time);
    }

    private static Error Refused => new(ErrorCode.Local_Transport, $"{Broker}: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT)");

    /// <summary>librdkafka's statistics, cut down to what the log reads.</summary>
    private static string Statistics(params (string Name, string State)[] brokers) =>
        JsonSerializer.Serialize(new { name = Client, brokers = brokers.ToDictionary(b => b.Name, b => new { name = b.Name, state = b.State }) });

    private List<LogEntry> Above(LogLevel level) => [.. _log.Entries.Where(e => e.Level >= level)];

    [Fact]
    public void An_outage_of_minutes_is_a_warning_a_count_every_30_seconds_and_one_line_when_it_ends()
    {
        for (var second = 0; second < 120; second++)
        {
            _clientLog.Error(Client, Refused);
            _clientLog.Error(Client, new Error(ErrorCode.Local_AllBrokersDown, "1/1 brokers are down"));
            _clientLog.Log(new LogMessage(Client, SyslogLevel.Error, "FAIL", Refused.Reason));
            _clientLog.Statistics(Statistics((Broker, "DOWN")));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var warnings = Above(LogLevel.Warning);
        Assert.Equal(4, warnings.Count);
        Assert.Equal($"Kafka client {Client} cannot reach {Broker}: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT) " +
            "(Local_Transport). Until it is back, further connection errors are logged at Debug and counted every 30 s", warnings[0].Message);
        // Every 30 s, two errors a second.
        Assert.All(warnings.Skip(1), w => Assert.Contains("60 more connection errors in the last 30 s", w.Message, StringComparison.Ordinal));
        Assert.Equal(2 * 120 - 1 + 120, _log.Entries.Count(e => e.Level == LogLevel.Debug));

        _clientLog.Statistics(Statistics((Broker, "UP")));
        _clientLog.Statistics(Statistics((Broker, "UP")));
        var recovered = Assert.Single(_log.Entries, e => e.Level == LogLevel.Information);
        Assert.Equal($"Kafka client {Client} is connected again ({Broker} is up) after 120.0 s and 239 further connection errors", recovered.Message);

        // The next outage is news again.
        _clientLog.Error(Client, Refused);
        Assert.Equal(5, Above(LogLevel.Warning).Count);
        Assert.Contains("cannot reach", Above(LogLevel.Warning)[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_outage_ends_only_when_every_broker_that_failed_is_up_or_gone()
    {
        _clientLog.Error(Client, Refused);
        _clientLog.Error(Client, new Error(ErrorCode.Local_Transport, "GroupCoordinator: 127.0.0.1:9092: Connect to ipv4#127.0.0.1:9092 failed: Connection refused"));

        _clientLog.Statistics(Statistics((Broker, "UP"), ("GroupCoordinator", "TRY_CONNECT")));
        Assert.DoesNotContain(_log.Entries, e => e.Level == LogLevel.Information);

        _clientLog.Statistics(Statistics((Broker, "UP")));
        Assert.Single(_log.Entries, e => e.Level == LogLevel.Information);
    }

    [Fact]
    public void Fatal_errors_are_always_logged_as_critical()
    {
        for (var i = 0; i < 3; i++)
        {
            _clientLog.Error(Client, new Error(ErrorCode.Local_Fatal, "Producer fenced", isFatal: true));
        }

        Assert.Equal(3, _log.Entries.Count(e => e.Level == LogLevel.Critical));
    }

    [Fact]
    public void Other_repeated_errors_and_warnings_are_logged_once_then_counted()
    {
        var denied = new Error(ErrorCode.TopicAuthorizationFailed, "Topic authorization failed");
        for (var i = 0; i < 10; i++)
        {
            _clientLog.Error(Client, denied);
            _clientLog.Log(new LogMessage(Client, SyslogLevel.Warning, "MAXPOLL", "Application maximum poll interval exceeded"));
        }

        Assert.Equal(2, Above(LogLevel.Warning).Count);

        _time.Advance(KafkaClientLog.SummaryInterval);
        _clientLog.Error(Client, denied);
        Assert.Contains("10 more Kafka client", Above(LogLevel.Warning)[^1].Message, StringComparison.Ordinal);

        // After a quiet window, the next one is logged in full again.
        _time.Advance(KafkaClientLog.SummaryInterval);
        _clientLog.Error(Client, denied);
        Assert.Equal($"Kafka client {Client} error TopicAuthorizationFailed: Topic authorization failed", Above(LogLevel.Warning)[^1].Message);
    }

    /// <summary>A clock the test moves forward by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public override DateTimeOffset GetUtcNow() => new(_ticks, TimeSpan.Zero);

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
