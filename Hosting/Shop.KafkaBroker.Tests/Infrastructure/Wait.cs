namespace Shop.KafkaBroker.Tests.Infrastructure;

public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for {what}.");
            }

            await Task.Delay(50);
        }
    }
}
