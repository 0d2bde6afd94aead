namespace Shop.KafkaBroker.Storage;

/// <summary>
/// A broadcast wake-up: waiters take <see cref="WaitTask"/>, <see cref="Pulse"/> completes it for all of
/// them and arms a fresh one. Long-polled fetches wait on it instead of polling.
/// </summary>
public sealed class AsyncSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _observed;

    public Task WaitTask
    {
        get
        {
            Volatile.Write(ref _observed, 1);
            return Volatile.Read(ref _current).Task;
        }
    }

    public void Pulse()
    {
        if (Interlocked.Exchange(ref _observed, 0) == 0)
        {
            return;
        }

        var previous = Interlocked.Exchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }
}
