using Microsoft.Extensions.Logging.Abstractions;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class FlushSchedulerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private sealed class Disk : IFlushable
    {
        public volatile bool Failing;

        public void FlushToDisk()
        {
            if (Failing)
            {
                throw new IOException("Input/output error");
            }
        }
    }

    [Fact]
    public async Task Appends_whose_fsync_failed_are_never_reported_durable_and_later_ones_are()
    {
        await using var flusher = new FlushScheduler(new BrokerOptions(), NullLogger<FlushScheduler>.Instance);
        var disk = new Disk { Failing = true };

        var lost = flusher.MarkDirty(disk);
        await Assert.ThrowsAsync<IOException>(() => flusher.WaitDurableAsync(lost).WaitAsync(Timeout));
        // Asked again after the failed round, the answer stays the same.
        await Assert.ThrowsAsync<IOException>(() => flusher.WaitDurableAsync(lost).WaitAsync(Timeout));

        disk.Failing = false;
        var kept = flusher.MarkDirty(disk);
        await flusher.WaitDurableAsync(kept).WaitAsync(Timeout);
        await Assert.ThrowsAsync<IOException>(() => flusher.WaitDurableAsync(lost).WaitAsync(Timeout));
    }
}
