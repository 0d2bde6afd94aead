namespace Shop.EventBus.Tests;

public sealed class BackoffTests
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(5, 1000)]
    [InlineData(64, 1000)]
    [InlineData(int.MaxValue, 1000)]
    public void The_delay_doubles_after_each_failure_up_to_the_maximum(int failures, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Backoff.Delay(failures, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1)));

    [Fact]
    public void The_total_adds_the_delays_between_attempts() =>
        // 100 + 200 + 400 + 800 + 1000 between six attempts.
        Assert.Equal(TimeSpan.FromMilliseconds(2500), Backoff.Total(6, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1)));

    [Fact]
    public void One_attempt_waits_for_nothing() => Assert.Equal(TimeSpan.Zero, Backoff.Total(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
}
