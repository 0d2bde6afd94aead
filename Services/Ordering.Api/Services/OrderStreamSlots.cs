using Microsoft.Extensions.Options;

namespace Ordering.Api.Services;

/// <summary>
/// The order status streams each buyer has open on this replica, at most <see cref="OrderingOptions.MaxStreamsPerBuyer"/>.
/// A stream holds a connection, a subscription to the feed and a task for as long as its client stays: without a cap,
/// one user's script (or a page opened in a hundred tabs) could hold any number of them.
/// </summary>
public sealed class OrderStreamSlots(IOptions<OrderingOptions> options)
{
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int Limit => options.Value.MaxStreamsPerBuyer;

    /// <summary>A slot for one more stream of <paramref name="buyerId"/>, released when disposed; null when all are taken.</summary>
    public IDisposable? TryTake(string buyerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(buyerId);

        lock (_lock)
        {
            var open = _open.GetValueOrDefault(buyerId);
            if (open >= Limit)
            {
                return null;
            }

            _open[buyerId] = open + 1;
        }

        return new Slot(this, buyerId);
    }

    private void Release(string buyerId)
    {
        lock (_lock)
        {
            if (_open[buyerId] == 1)
            {
                _open.Remove(buyerId);
            }
            else
            {
                _open[buyerId]--;
            }
        }
    }

    private sealed class Slot(OrderStreamSlots slots, string buyerId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(buyerId);
            }
        }
    }
}
