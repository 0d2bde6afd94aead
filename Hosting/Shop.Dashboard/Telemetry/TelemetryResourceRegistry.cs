using Shop.Dashboard.Configuration;
using Microsoft.Extensions.Options;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Shop.Dashboard.Telemetry;

/// <summary>
/// Resolves the OTLP resource of a batch to one shared <see cref="TelemetryResource"/> instance. At most
/// <see cref="TelemetryLimitOptions.MaxResourceCount"/> are kept: a new resource past it evicts the one whose telemetry
/// arrived longest ago, and the caller removes that resource's telemetry from the stores.
/// </summary>
public sealed class TelemetryResourceRegistry(IOptions<DashboardOptions> options, TimeProvider timeProvider)
{
    private const string ServiceName = "service.name";
    private const string ServiceInstanceId = "service.instance.id";
    private const string UnknownService = "unknown_service";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Name, string InstanceId), TelemetryResource> _resources = [];
    private long _lastUse;

    public IReadOnlyList<TelemetryResource> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _resources.Values.OrderBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.InstanceId, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Changes whenever a resource is added or evicted.</summary>
    public long Version { get; private set; }

    /// <param name="evicted">The resource evicted to make room for a new one, whose telemetry the caller removes.</param>
    internal TelemetryResource Resolve(OtlpResource? resource, out TelemetryResource? evicted)
    {
        var limits = options.Value.TelemetryLimits;
        var name = UnknownService;
        var instanceId = string.Empty;
        if (resource is not null)
        {
            // A repeated key's last value wins, as in the attribute list (OtlpConverter.ToAttributes), so the name
            // is the service.name that list shows. Read from the attributes as sent: a long key cut to
            // MaxAttributeLength or one past MaxAttributeCount still names the resource.
            foreach (var attribute in resource.Attributes)
            {
                if (attribute.Key == ServiceName)
                {
                    name = OtlpConverter.Truncate(OtlpConverter.ToText(attribute.Value), limits.MaxAttributeLength);
                }
                else if (attribute.Key == ServiceInstanceId)
                {
                    instanceId = OtlpConverter.Truncate(OtlpConverter.ToText(attribute.Value), limits.MaxAttributeLength);
                }
            }
        }

        evicted = null;
        lock (_lock)
        {
            if (!_resources.TryGetValue((name, instanceId), out var known))
            {
                // A scan, but only when a resource is added and over at most MaxResourceCount entries.
                if (_resources.Count >= Math.Max(1, limits.MaxResourceCount))
                {
                    evicted = _resources.Values.MinBy(r => r.LastUse)!;
                    evicted.Removed = true;
                    _resources.Remove((evicted.Name, evicted.InstanceId));
                }

                known = new TelemetryResource(name, instanceId, resource is null ? [] : OtlpConverter.ToAttributes(resource.Attributes, limits))
                {
                    FirstSeen = timeProvider.GetUtcNow(),
                };
                _resources[(name, instanceId)] = known;
                Version++;
            }

            known.LastUse = ++_lastUse;
            return known;
        }
    }
}
