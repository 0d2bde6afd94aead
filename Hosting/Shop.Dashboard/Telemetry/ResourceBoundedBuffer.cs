namespace Shop.Dashboard.Telemetry;

/// <summary>
/// Items in arrival order, grouped per resource, with a cap per resource and a cap in total. Past either cap the
/// oldest item (of that resource, or of all resources) is evicted, so memory stays bounded under any flood.
/// Not thread-safe: callers hold their store's lock.
/// </summary>
internal sealed class ResourceBoundedBuffer<T>(Func<int> perResourceCap, Func<int> totalCap, Action<T>? onEvicted = null)
{
    private readonly Dictionary<TelemetryResource, RingQueue<(long Sequence, T Item)>> _byResource = [];
    private long _sequence;

    public int Count { get; private set; }

    public IEnumerable<TelemetryResource> Resources => _byResource.Keys;

    /// <summary>Adds an item and returns its sequence number (increasing across all resources).</summary>
    public long Add(TelemetryResource resource, T item)
    {
        if (!_byResource.TryGetValue(resource, out var queue))
        {
            queue = new RingQueue<(long, T)>();
            _byResource[resource] = queue;
        }

        var sequence = ++_sequence;
        queue.Enqueue((sequence, item));
        Count++;

        var resourceCap = Math.Max(1, perResourceCap());
        while (queue.Count > resourceCap)
        {
            Evict(queue);
        }

        var cap = Math.Max(1, totalCap());
        while (Count > cap)
        {
            Evict(OldestQueue());
        }

        return sequence;
    }

    /// <summary>Drops a resource with all its items (without <c>onEvicted</c>: the caller drops what they belong to).</summary>
    public void Remove(TelemetryResource resource)
    {
        if (_byResource.Remove(resource, out var queue))
        {
            Count -= queue.Count;
        }
    }

    public int CountFor(TelemetryResource resource) => _byResource.TryGetValue(resource, out var queue) ? queue.Count : 0;

    /// <summary>Items of one resource, newest first.</summary>
    public IEnumerable<(long Sequence, T Item)> NewestFirst(TelemetryResource resource)
    {
        if (!_byResource.TryGetValue(resource, out var queue))
        {
            yield break;
        }

        for (var i = queue.Count - 1; i >= 0; i--)
        {
            yield return queue[i];
        }
    }

    private RingQueue<(long Sequence, T Item)> OldestQueue()
    {
        RingQueue<(long Sequence, T Item)>? oldest = null;
        foreach (var queue in _byResource.Values)
        {
            if (queue.Count > 0 && (oldest is null || queue.Oldest.Sequence < oldest.Oldest.Sequence))
            {
                oldest = queue;
            }
        }

        return oldest ?? throw new InvalidOperationException("Nothing to evict.");
    }

    private void Evict(RingQueue<(long Sequence, T Item)> queue)
    {
        var (_, item) = queue.Dequeue();
        Count--;
        onEvicted?.Invoke(item);
    }
}
