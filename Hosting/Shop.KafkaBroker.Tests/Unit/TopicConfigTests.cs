using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Storage;

namespace Shop.KafkaBroker.Tests.Unit;

public sealed class TopicConfigTests
{
    [Theory]
    [InlineData("0", true)]
    [InlineData("268435456", true)]
    [InlineData("268435457", false)]
    [InlineData("2147483647", false)]
    public void Max_message_bytes_is_refused_above_the_largest_batch_recovery_keeps(string value, bool accepted) =>
        Assert.Equal(accepted, TopicConfig.Validate(TopicConfig.MaxMessageBytesKey, value) is null);

    [Fact]
    public void A_stored_max_message_bytes_above_the_cap_is_read_as_the_cap()
    {
        var overrides = new Dictionary<string, string> { [TopicConfig.MaxMessageBytesKey] = "2147483647" };
        Assert.Equal(RecordBatch.MaxStoredBatchBytes, TopicConfig.Resolve(overrides, new BrokerOptions()).MaxMessageBytes);
    }
}
