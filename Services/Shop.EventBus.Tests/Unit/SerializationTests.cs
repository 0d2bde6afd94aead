using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Shop.EventBus.Tests;

public sealed class SerializationTests
{
    public record PriceChangedIntegrationEvent(int ProductId, decimal NewPrice, decimal OldPrice) : IntegrationEvent;

    /// <summary>A consumer's own copy of the publisher's record, with only the fields it needs.</summary>
    public record PriceChangedConsumerView(int ProductId, decimal NewPrice) : IntegrationEvent;

    private static readonly IntegrationEventSerializer Serializer = new(Options.Create(new EventBusOptions()));

    [Fact]
    public void An_event_round_trips_with_its_id_and_creation_date()
    {
        var sent = new PriceChangedIntegrationEvent(7, 12.5m, 10m);

        var json = Serializer.Serialize(sent);
        var received = (PriceChangedIntegrationEvent)Serializer.Deserialize(Encoding.UTF8.GetBytes(json), typeof(PriceChangedIntegrationEvent));

        Assert.Equal(sent, received);
        Assert.NotEqual(Guid.Empty, received.Id);
        Assert.Contains("\"productId\":7", json);
        Assert.DoesNotContain("eventType", json, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(nameof(PriceChangedIntegrationEvent), received.EventType);
    }

    [Fact]
    public void Unknown_fields_are_ignored_and_missing_ones_take_their_defaults()
    {
        var json = """{"id":"0197a4c2-5e55-7a4b-9f0e-1a2b3c4d5e6f","creationDate":"2025-01-02T03:04:05+00:00","productId":3,"newPrice":9.99,"addedLater":{"x":1}}""";

        var view = (PriceChangedConsumerView)Serializer.Deserialize(Encoding.UTF8.GetBytes(json), typeof(PriceChangedConsumerView));
        var full = (PriceChangedIntegrationEvent)Serializer.Deserialize(Encoding.UTF8.GetBytes(json), typeof(PriceChangedIntegrationEvent));

        Assert.Equal(3, view.ProductId);
        Assert.Equal(9.99m, view.NewPrice);
        Assert.Equal(Guid.Parse("0197a4c2-5e55-7a4b-9f0e-1a2b3c4d5e6f"), view.Id);
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), view.CreationDate);
        Assert.Equal(0m, full.OldPrice);
    }

    [Theory]
    [InlineData("{\"productId\": nope}")]
    [InlineData("null")]
    [InlineData("")]
    public void Unreadable_payloads_raise_a_json_exception(string payload) =>
        Assert.ThrowsAny<JsonException>(() => Serializer.Deserialize(Encoding.UTF8.GetBytes(payload), typeof(PriceChangedIntegrationEvent)));
}
