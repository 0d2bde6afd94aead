using System.Collections.Concurrent;
using Shop.Dashboard.Configuration;
using Microsoft.Extensions.Options;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Shop.Dashboard.Telemetry;

/// <summary>Resolves the OTLP resource of a batch to one shared <see cref="TelemetryResource"/> instance.</summary>
public sealed class TelemetryResourceRegistry(IOptions<DashboardOptions> options, TimeProvider timeProvider)
{
    private const string ServiceName = "service.name";
    private const string ServiceInstanceId = "service.instance.id";
    private const string UnknownService = "unknown_service";

    private readonly ConcurrentDictionary<(string Name, string InstanceId), TelemetryResource> _resources = new();

    public IReadOnlyList<TelemetryResource> All =>
        [.. _resources.Values.OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.InstanceId, StringComparer.Ordinal)];

    public int Count => _resources.Count;

    internal TelemetryResource Resolve(OtlpResource? resource)
    {
        var name = UnknownService;
        var instanceId = string.Empty;
        if (resource is not null)
        {
            foreach (var attribute in resource.Attributes)
            {
                if (attribute.Key == ServiceName)
                {
                    name = OtlpConverter.Truncate(OtlpConverter.ToText(attribute.Value), options.Value.TelemetryLimits.MaxAttributeLength);
                }
                else if (attribute.Key == ServiceInstanceId)
                {
                    instanceId = OtlpConverter.Truncate(OtlpConverter.ToText(attribute.Value), options.Value.TelemetryLimits.MaxAttributeLength);
                }
            }
        }

        return _resources.TryGetValue((name, instanceId), out var known)
            ? known
            : _resources.GetOrAdd((name, instanceId), key => new TelemetryResource(
                key.Name,
                key.InstanceId,
                resource is null ? [] : OtlpConverter.ToAttributes(resource.Attributes, options.Value.TelemetryLimits))
            {
                FirstSeen = timeProvider.GetUtcNow(),
            });
    }
}
