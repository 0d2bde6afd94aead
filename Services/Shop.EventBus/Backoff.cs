namespace Shop.EventBus;

/// <summary>Exponential backoff: the first delay, doubled after every failure, never above the maximum.</summary>
internal static class Backoff
{
    /// <summary>The delay after failure number <paramref name="failures"/> (1 = the first failure).</summary>
    public static TimeSpan Delay(int failures, TimeSpan initial, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        // Past 2^30 the shift would overflow; the cap is reached long before.
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var ticks = initial.Ticks * factor;
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The sum of the delays between <paramref name="attempts"/> attempts.</summary>
    public static TimeSpan Total(int attempts, TimeSpan initial, TimeSpan max)
    {
        var total = TimeSpan.Zero;
        for (var failure = 1; failure < attempts; failure++)
        {
            total += Delay(failure, initial, max);
        }

        return total;
    }
}
