using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Shop.EventBus;

/// <summary>Events as JSON with the configured options; unknown fields are skipped when reading.</summary>
internal sealed class IntegrationEventSerializer(IOptions<EventBusOptions> options)
{
    private JsonSerializerOptions Json => options.Value.JsonSerializerOptions;

    public string Serialize(IntegrationEvent @event) => JsonSerializer.Serialize(@event, @event.GetType(), Json);

    /// <exception cref="JsonException">The payload is not JSON of that type.</exception>
    public IntegrationEvent Deserialize(ReadOnlySpan<byte> utf8Json, Type eventType) =>
        JsonSerializer.Deserialize(utf8Json, eventType, Json) as IntegrationEvent
        ?? throw new JsonException($"The payload is JSON null, not a {eventType.Name}.");
}
