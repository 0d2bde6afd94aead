namespace Shop.EventBus.Tests;

public sealed class TopicNamesTests
{
    [IntegrationEventTopic("catalog.products")]
    public record ProductRenamedIntegrationEvent(int ProductId, string Name) : IntegrationEvent;

    public record StockDepletedIntegrationEvent(int ProductId) : IntegrationEvent;

    [IntegrationEventTopic("catalog/products")]
    public record BadlyNamedIntegrationEvent : IntegrationEvent;

    [Fact]
    public void An_event_goes_to_the_stream_its_attribute_names_after_the_prefix() =>
        Assert.Equal("staging.catalog.products", TopicNames.For(typeof(ProductRenamedIntegrationEvent), "staging."));

    [Fact]
    public void Without_the_attribute_an_event_gets_a_topic_named_after_its_type() =>
        Assert.Equal("StockDepletedIntegrationEvent", TopicNames.For(typeof(StockDepletedIntegrationEvent), ""));

    [Fact]
    public void An_invalid_topic_name_is_refused_with_the_reason()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TopicNames.For(typeof(BadlyNamedIntegrationEvent), ""));
        Assert.Contains("catalog/products", error.Message);
        Assert.Contains(nameof(BadlyNamedIntegrationEvent), error.Message);
    }

    [Theory]
    [InlineData("orders", true)]
    [InlineData("ordering.orders-v2_x", true)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("orders!", false)]
    [InlineData("commandes-été", false)]
    public void Kafka_topic_names_are_checked(string topic, bool valid) => Assert.Equal(valid, TopicNames.IsValid(topic));

    [Fact]
    public void Topic_names_longer_than_kafka_allows_are_refused() => Assert.False(TopicNames.IsValid(new string('a', 250)));
}
