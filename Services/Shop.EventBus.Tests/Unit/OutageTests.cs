namespace Shop.EventBus.Tests;

/// <summary><see cref="Outage"/> on a clock the test moves: what an outage of minutes, retried with backoff, leaves in the log.</summary>
public sealed class OutageTests
{
    private readonly ManualTime _time = new();
    private readonly Outage _outage = new();

    [Fact]
    public void An_outage_of_minutes_is_one_warning_a_count_every_30_seconds_and_one_line_when_it_ends()
    {
        // A failure every 10 s, as the relay and the consumer retry at their longest backoff.
        var failures = new List<(bool First, (int Count, TimeSpan Window)? Summary)>();
        for (var second = 0; second <= 120; second += 10)
        {
            failures.Add(_outage.Failed(_time));
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.Equal([true], failures.Where(f => f.First).Select(f => f.First));
        Assert.Equal(
            Enumerable.Repeat<(int, TimeSpan)?>((3, TimeSpan.FromSeconds(30)), 4),
            failures.Where(f => f.Summary is not null).Select(f => f.Summary));

        Assert.Equal((TimeSpan.FromSeconds(130), 12), _outage.Succeeded(_time));
        Assert.Null(_outage.Succeeded(_time));

        // The next outage is news again.
        Assert.True(_outage.Failed(_time).First);
    }

    [Fact]
    public void A_success_without_a_failure_ends_nothing() => Assert.Null(_outage.Succeeded(_time));

    /// <summary>A clock the test moves forward by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
