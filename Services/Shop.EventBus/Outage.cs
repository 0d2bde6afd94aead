namespace Shop.EventBus;

/// <summary>
/// One kind of failure that repeats, with backoff, for as long as Kafka or the database is down, as its log should
/// show it: the first failure is news (a warning), the repeats go to Debug and are counted in a warning every
/// <see cref="SummaryInterval"/>, and the first success after them ends the outage in one information line.
/// Shop.Confluent.Kafka's client log shows librdkafka's connection errors the same way. Safe to share between the
/// consumer's partitions, which fail and recover side by side.
/// </summary>
internal sealed class Outage
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private volatile bool _ongoing;
    private long _since;
    private long _windowStart;
    private int _inWindow;
    private int _repeats;

    /// <summary>Counts a failure.</summary>
    /// <returns>
    /// Whether it is the first of an outage (to log as a warning; a repeat goes to Debug) and, once a window is over,
    /// the repeats in it to count in a warning.
    /// </returns>
    public (bool First, (int Count, TimeSpan Window)? Summary) Failed(TimeProvider timeProvider)
    {
        lock (_lock)
        {
            var now = timeProvider.GetTimestamp();
            if (!_ongoing)
            {
                _ongoing = true;
                _since = _windowStart = now;
                _inWindow = _repeats = 0;
                return (true, null);
            }

            _repeats++;
            _inWindow++;
            var window = timeProvider.GetElapsedTime(_windowStart, now);
            if (window < SummaryInterval)
            {
                return (false, null);
            }

            var count = _inWindow;
            _inWindow = 0;
            _windowStart = now;
            return (false, (count, window));
        }
    }

    /// <summary>
    /// Counts a failure and logs it through the caller's messages: <paramref name="first"/> (a warning) when it starts
    /// an outage, <paramref name="again"/> (Debug) otherwise, and <paramref name="summary"/> (a warning, with the
    /// repeats and the window they fell in) once a window is over.
    /// </summary>
    public void Report(TimeProvider timeProvider, Action first, Action again, Action<int, TimeSpan> summary)
    {
        var (isFirst, due) = Failed(timeProvider);
        (isFirst ? first : again)();
        if (due is { } window)
        {
            summary(window.Count, window.Window);
        }
    }

    /// <summary>Ends the outage, if there is one.</summary>
    /// <returns>How long it lasted and how many failures followed the first; null when nothing had failed.</returns>
    public (TimeSpan Duration, int Repeats)? Succeeded(TimeProvider timeProvider)
    {
        // Every success asks: without an outage, the answer costs no lock.
        if (!_ongoing)
        {
            return null;
        }

        lock (_lock)
        {
            if (!_ongoing)
            {
                return null;
            }

            _ongoing = false;
            return (timeProvider.GetElapsedTime(_since), _repeats);
        }
    }
}
