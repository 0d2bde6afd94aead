namespace Shop.Dashboard.Telemetry;

/// <summary>
/// A FIFO that grows by doubling and supports indexed access from either end, so the newest items can be read
/// first without copying. Not thread-safe: the stores guard it with their lock.
/// </summary>
internal sealed class RingQueue<T>
{
    private T[] _items = new T[16];
    private int _head;

    public int Count { get; private set; }

    /// <summary>Index 0 is the oldest item.</summary>
    public T this[int index] => _items[(_head + index) % _items.Length];

    public T Oldest => this[0];

    public void Enqueue(T item)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        _items[(_head + Count) % _items.Length] = item;
        Count++;
    }

    public T Dequeue()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The queue is empty.");
        }

        var item = _items[_head];
        _items[_head] = default!;
        _head = (_head + 1) % _items.Length;
        Count--;
        return item;
    }

    private void Grow()
    {
        var larger = new T[_items.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            larger[i] = this[i];
        }

        _items = larger;
        _head = 0;
    }
}
