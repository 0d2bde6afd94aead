namespace Shop.KafkaBench;

/// <summary>Samples the broker's resident set size from /proc every 100 ms and keeps the peak.</summary>
public sealed class RssSampler : IDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _peak;

    public RssSampler(int pid)
    {
        _pid = pid;
        _sampling = pid > 0 ? Task.Run(SampleAsync) : Task.CompletedTask;
    }

    public static long Read(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }

        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            do
            {
                _peak = Math.Max(_peak, Read(_pid));
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
        }
    }

    public long Stop()
    {
        _stop.Cancel();
        _sampling.Wait();
        return Math.Max(_peak, Read(_pid));
    }

    public void Dispose() => _stop.Dispose();
}
