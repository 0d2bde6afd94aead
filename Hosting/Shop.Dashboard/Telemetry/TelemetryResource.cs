namespace Shop.Dashboard.Telemetry;

/// <summary>
/// A source of telemetry, identified the way OpenTelemetry identifies it: <c>service.name</c> plus
/// <c>service.instance.id</c> (each replica is its own resource).
/// </summary>
public sealed class TelemetryResource(string name, string instanceId, IReadOnlyList<KeyValuePair<string, string>> attributes)
{
    public string Name { get; } = name;

    public string InstanceId { get; } = instanceId;

    /// <summary>Resource attributes as first seen (sdk, host, process...).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; } = attributes;

    /// <summary>The service name alone, or name and instance when an instance id is set and differs from it.</summary>
    public string Id { get; } = instanceId.Length == 0 || instanceId == name ? name : $"{name}/{instanceId}";

    public DateTimeOffset FirstSeen { get; init; }

    /// <summary>When telemetry last arrived, as the registry's counter; the least recent is evicted first.</summary>
    internal long LastUse { get; set; }

    /// <summary>
    /// Set by the registry, before the stores drop the resource's telemetry, so a batch still being added for it is
    /// discarded (the stores check it under their lock).
    /// </summary>
    internal bool Removed { get; set; }

    /// <summary>
    /// A filter names either the service (every instance), the instance id, or the full <see cref="Id"/>.
    /// Empty filters match everything.
    /// </summary>
    public bool Matches(string? filter) =>
        string.IsNullOrEmpty(filter)
        || string.Equals(filter, Name, StringComparison.OrdinalIgnoreCase)
        || string.Equals(filter, InstanceId, StringComparison.OrdinalIgnoreCase)
        || string.Equals(filter, Id, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Id;
}
