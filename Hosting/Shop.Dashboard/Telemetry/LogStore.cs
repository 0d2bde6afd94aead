using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shop.Dashboard.Configuration;

namespace Shop.Dashboard.Telemetry;

/// <param name="MinLevel">Entries at this level or above.</param>
/// <param name="Attribute">An attribute name; with <paramref name="AttributeValue"/>, its value must contain that text.</param>
public sealed record LogQuery(
    string? Resource = null,
    LogLevel? MinLevel = null,
    string? Text = null,
    string? Attribute = null,
    string? AttributeValue = null,
    string? TraceId = null,
    int Limit = 500);

public sealed record LogQueryResult(IReadOnlyList<LogEntry> Entries, int TotalStored);

/// <summary>Structured logs per resource, bounded by <see cref="TelemetryLimitOptions"/>.</summary>
public sealed class LogStore
{
    private readonly Lock _lock = new();
    private readonly ResourceBoundedBuffer<LogEntry> _buffer;

    public LogStore(IOptions<DashboardOptions> options)
    {
        var limits = options.Value.TelemetryLimits;
        _buffer = new(() => limits.MaxLogCountPerResource, () => limits.MaxLogCount);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _buffer.Count;
            }
        }
    }

    public int CountFor(TelemetryResource resource)
    {
        lock (_lock)
        {
            return _buffer.CountFor(resource);
        }
    }

    internal void Add(TelemetryResource resource, List<LogEntry> entries)
    {
        lock (_lock)
        {
            if (resource.Removed)
            {
                return;
            }

            foreach (var entry in entries)
            {
                entry.Sequence = _buffer.Add(resource, entry);
            }
        }
    }

    internal void Remove(TelemetryResource resource)
    {
        lock (_lock)
        {
            _buffer.Remove(resource);
        }
    }

    /// <summary>Matching entries, newest first.</summary>
    public LogQueryResult Query(LogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Max(0, query.Limit);
        var matches = new List<LogEntry>();
        lock (_lock)
        {
            foreach (var resource in _buffer.Resources)
            {
                if (!resource.Matches(query.Resource))
                {
                    continue;
                }

                var taken = 0;
                foreach (var (_, entry) in _buffer.NewestFirst(resource))
                {
                    if (taken == limit)
                    {
                        break;
                    }

                    if (IsMatch(entry, query))
                    {
                        matches.Add(entry);
                        taken++;
                    }
                }
            }

            var total = _buffer.Count;
            matches.Sort(static (a, b) => b.Sequence.CompareTo(a.Sequence));
            if (matches.Count > limit)
            {
                matches.RemoveRange(limit, matches.Count - limit);
            }

            return new(matches, total);
        }
    }

    private static bool IsMatch(LogEntry entry, LogQuery query)
    {
        if (query.MinLevel is { } level && entry.Level < level)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.TraceId) && !string.Equals(entry.TraceId, query.TraceId, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.Text) && !entry.Message.Contains(query.Text, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.Attribute))
        {
            var found = false;
            foreach (var attribute in entry.Attributes)
            {
                if (string.Equals(attribute.Key, query.Attribute, StringComparison.OrdinalIgnoreCase)
                    && (string.IsNullOrEmpty(query.AttributeValue) || attribute.Value.Contains(query.AttributeValue, StringComparison.OrdinalIgnoreCase)))
                {
                    found = true;
                    break;
                }
            }

            return found;
        }

        return true;
    }
}
