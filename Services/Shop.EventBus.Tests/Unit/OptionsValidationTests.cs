namespace Shop.EventBus.Tests;

public sealed class OptionsValidationTests
{
    private static IReadOnlyList<string> Failures(Action<EventBusOptions> change)
    {
        var options = new EventBusOptions { GroupId = "ordering" };
        change(options);
        return new EventBusOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
    }

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(Failures(_ => { }));

    [Theory]
    [InlineData("GroupId", "")]
    [InlineData("GroupId", "ordering service")]
    [InlineData("TopicPrefix", "dev/")]
    [InlineData("TopicPartitions", "0")]
    [InlineData("TopicReplicationFactor", "0")]
    [InlineData("RelayBatchSize", "0")]
    [InlineData("MaxDeliveryAttempts", "0")]
    [InlineData("MaxConcurrency", "0")]
    [InlineData("MaxConcurrency", "65")]
    [InlineData("RelayPollInterval", "0")]
    [InlineData("RetryDelay", "-1")]
    [InlineData("Retention", "0")]
    [InlineData("CleanupInterval", "0")]
    public void A_bad_setting_is_named_in_the_failure(string key, string value)
    {
        var failures = Failures(options =>
        {
            switch (key)
            {
                case "GroupId": options.GroupId = value; break;
                case "TopicPrefix": options.TopicPrefix = value; break;
                case "TopicPartitions": options.TopicPartitions = int.Parse(value); break;
                case "TopicReplicationFactor": options.TopicReplicationFactor = short.Parse(value); break;
                case "RelayBatchSize": options.RelayBatchSize = int.Parse(value); break;
                case "MaxDeliveryAttempts": options.MaxDeliveryAttempts = int.Parse(value); break;
                case "MaxConcurrency": options.MaxConcurrency = int.Parse(value); break;
                case "RelayPollInterval": options.RelayPollInterval = TimeSpan.FromSeconds(int.Parse(value)); break;
                case "RetryDelay": options.RetryDelay = TimeSpan.FromSeconds(int.Parse(value)); break;
                case "Retention": options.Retention = TimeSpan.FromSeconds(int.Parse(value)); break;
                case "CleanupInterval": options.CleanupInterval = TimeSpan.FromSeconds(int.Parse(value)); break;
            }
        });

        Assert.Contains(failures, f => f.Contains($"EventBus:{key}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("products.catalog", 0, "EventBus:TopicConcurrency:products.catalog must be between 1 and 4; it is 0.")]
    [InlineData("products.catalog", 5, "EventBus:TopicConcurrency:products.catalog must be between 1 and 4; it is 5.")]
    [InlineData("products catalog", 1, "EventBus:TopicConcurrency names 'products catalog', which is not a topic name")]
    public void A_bad_topic_limit_is_named_in_the_failure(string topic, int limit, string expected) =>
        Assert.Contains(Failures(o => o.TopicConcurrency[topic] = limit), f => f.StartsWith(expected, StringComparison.Ordinal));

    [Fact]
    public void A_topic_limit_within_the_overall_one_is_valid() =>
        Assert.Empty(Failures(o => o.TopicConcurrency["products.catalog"] = 1));

    [Fact]
    public void A_maximum_delay_below_the_first_delay_is_refused() =>
        Assert.Contains(Failures(o => o.MaxRetryDelay = TimeSpan.FromMilliseconds(10)), f => f.Contains("EventBus:MaxRetryDelay", StringComparison.Ordinal));

    [Fact]
    public void Retries_that_would_outlast_the_consumers_poll_interval_are_refused()
    {
        var failure = Assert.Single(Failures(o =>
        {
            o.MaxDeliveryAttempts = 30;
            o.MaxRetryDelay = TimeSpan.FromSeconds(30);
        }));
        Assert.Contains("max.poll.interval.ms", failure);
    }
}
