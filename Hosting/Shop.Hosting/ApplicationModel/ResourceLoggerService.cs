using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Shop.Dashboard.Contracts;

namespace Shop.Hosting.ApplicationModel;

/// <summary>The console output of every resource instance: a bounded backlog plus a live stream.</summary>
public sealed class ResourceLoggerService(TimeProvider timeProvider)
{
    /// <summary>Lines kept per instance; older lines are dropped so a chatty process cannot exhaust memory.</summary>
    public const int BacklogLines = 5_000;

    private readonly ConcurrentDictionary<string, ResourceLog> _logs = new(StringComparer.Ordinal);

    public void Append(string resourceId, string text, bool isStdErr) => LogOf(resourceId).Append(text, isStdErr, timeProvider.GetUtcNow());

    /// <summary>The lines currently kept for the instance.</summary>
    public IReadOnlyList<ConsoleLogLine> GetBacklog(string resourceId) => LogOf(resourceId).Snapshot();

    /// <summary>The backlog, then every new line until cancelled.</summary>
    public IAsyncEnumerable<ConsoleLogLine> WatchAsync(string resourceId, CancellationToken cancellationToken = default) =>
        LogOf(resourceId).WatchAsync(cancellationToken);

    private ResourceLog LogOf(string resourceId) => _logs.GetOrAdd(resourceId, static _ => new ResourceLog());

    private sealed class ResourceLog
    {
        private readonly Lock _lock = new();
        private readonly Queue<ConsoleLogLine> _lines = new();
        private readonly List<Channel<ConsoleLogLine>> _watchers = [];
        private long _lineNumber;

        public void Append(string text, bool isStdErr, DateTimeOffset timestamp)
        {
            lock (_lock)
            {
                var line = new ConsoleLogLine(++_lineNumber, timestamp, text, isStdErr);
                _lines.Enqueue(line);
                if (_lines.Count > BacklogLines)
                {
                    _lines.Dequeue();
                }

                foreach (var watcher in _watchers)
                {
                    watcher.Writer.TryWrite(line);
                }
            }
        }

        public ConsoleLogLine[] Snapshot()
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }

        public async IAsyncEnumerable<ConsoleLogLine> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Bounded so a watcher that stops reading loses old lines instead of holding memory.
            var channel = Channel.CreateBounded<ConsoleLogLine>(new BoundedChannelOptions(BacklogLines * 2)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
            });
            lock (_lock)
            {
                foreach (var line in _lines)
                {
                    channel.Writer.TryWrite(line);
                }

                _watchers.Add(channel);
            }

            try
            {
                await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken))
                {
                    yield return line;
                }
            }
            finally
            {
                lock (_lock)
                {
                    _watchers.Remove(channel);
                }
            }
        }
    }
}
