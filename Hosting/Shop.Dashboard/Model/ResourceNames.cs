using Shop.Dashboard.Telemetry;

namespace Shop.Dashboard.Model;

/// <summary>
/// How resources are named on screen: the service name alone, unless several instances (replicas) of it sent
/// telemetry, in which case each instance is named by its full id.
/// </summary>
public sealed class ResourceNames
{
    private readonly IReadOnlyList<TelemetryResource> _resources;
    private readonly Dictionary<string, int> _instances;

    public ResourceNames(IReadOnlyList<TelemetryResource> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        _resources = resources;
        _instances = resources.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
    }

    public static ResourceNames Empty { get; } = new([]);

    public string Display(TelemetryResource resource) => Display(resource.Id);

    public string Display(string id)
    {
        var separator = id.IndexOf('/', StringComparison.Ordinal);
        var name = separator < 0 ? id : id[..separator];
        return _instances.GetValueOrDefault(name) > 1 ? id : name;
    }

    /// <summary>Filter choices: each service (all its instances), each instance of a replicated service, and the current value.</summary>
    public IReadOnlyList<string> FilterOptions(string? current)
    {
        var options = new List<string>();
        foreach (var group in _resources.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase))
        {
            options.Add(group.Key);
            if (group.Count() > 1)
            {
                options.AddRange(group.Select(r => r.Id));
            }
        }

        if (!string.IsNullOrEmpty(current) && !options.Contains(current, StringComparer.OrdinalIgnoreCase))
        {
            options.Add(current);
        }

        return options;
    }
}
