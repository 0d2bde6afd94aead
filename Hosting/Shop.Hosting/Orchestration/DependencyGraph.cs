using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Orchestration;

/// <summary>Who waits for whom: the start order, the stop order and the cycles that make a model unrunnable.</summary>
internal static class DependencyGraph
{
    /// <summary>The resources <paramref name="resource"/> must wait for before it starts.</summary>
    public static IEnumerable<IResource> WaitsOf(IResource resource) =>
        resource.AnnotationsOf<WaitAnnotation>().Select(w => w.Resource).Distinct();

    /// <summary>
    /// The relationship of a resource to another whose endpoint URL it only receives in an environment variable (an
    /// issuer, a CORS origin, a redirect URI). Such references often run both ways between services, so they are
    /// the ones given up when the stop order meets a cycle.
    /// </summary>
    public const string EnvironmentReference = "EnvironmentReference";

    /// <summary>Everything a resource depends on at run time: what it waits for, references, or lives in.</summary>
    public static IEnumerable<IResource> DependenciesOf(IResource resource) => DependenciesOf(resource, includeEnvironmentReferences: true);

    private static IEnumerable<IResource> DependenciesOf(IResource resource, bool includeEnvironmentReferences)
    {
        var dependencies = WaitsOf(resource)
            .Concat(resource.AnnotationsOf<ResourceRelationshipAnnotation>()
                .Where(r => includeEnvironmentReferences || r.Type != EnvironmentReference)
                .Select(r => r.Resource));
        if (resource is IResourceWithParent child)
        {
            dependencies = dependencies.Append(child.Parent);
        }

        return dependencies.Where(d => !ReferenceEquals(d, resource)).Distinct();
    }

    /// <summary>The first WaitFor cycle found, as the list of resources around it (first = last), or null.</summary>
    public static IReadOnlyList<IResource>? FindWaitCycle(IEnumerable<IResource> resources)
    {
        var state = new Dictionary<IResource, bool>(ReferenceEqualityComparer.Instance); // false: on the path; true: done
        var path = new List<IResource>();

        IReadOnlyList<IResource>? Visit(IResource resource)
        {
            if (state.TryGetValue(resource, out var done))
            {
                return done ? null : [.. path.Skip(path.IndexOf(resource)), resource];
            }

            state[resource] = false;
            path.Add(resource);
            foreach (var dependency in WaitsOf(resource))
            {
                if (Visit(dependency) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[resource] = true;
            return null;
        }

        foreach (var resource in resources)
        {
            if (Visit(resource) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }

    /// <summary>
    /// Groups resources into stop waves: a resource stops only after everything that depends on it. Cycles are
    /// allowed through references (two services passing each other's URLs); where one blocks the order, endpoint
    /// URLs passed in environment variables are set aside first, so waits and <c>WithReference</c> still decide
    /// (the storefront before the gateway, the gateway before the services, the services before their databases).
    /// A cycle of <c>WithReference</c> alone is broken arbitrarily so every resource still stops.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<IResource>> StopWaves(IReadOnlyList<IResource> resources)
    {
        var remaining = new HashSet<IResource>(resources, ReferenceEqualityComparer.Instance);
        List<IResource> NotNeededByOthers(bool includeEnvironmentReferences) =>
        [
            .. remaining.Where(r => !remaining.Any(other =>
                !ReferenceEquals(other, r) && DependenciesOf(other, includeEnvironmentReferences).Contains(r, ReferenceEqualityComparer.Instance))),
        ];

        var waves = new List<IReadOnlyList<IResource>>();
        while (remaining.Count > 0)
        {
            var wave = NotNeededByOthers(includeEnvironmentReferences: true);
            if (wave.Count == 0)
            {
                wave = NotNeededByOthers(includeEnvironmentReferences: false);
            }

            if (wave.Count == 0)
            {
                wave = [remaining.First()];
            }

            waves.Add(wave);
            remaining.ExceptWith(wave);
        }

        return waves;
    }
}

internal static class ModelValidator
{
    public static void Validate(IResourceCollection resources)
    {
        foreach (var resource in resources)
        {
            foreach (var dependency in DependencyGraph.DependenciesOf(resource))
            {
                if (resources.Find(dependency.Name) is null)
                {
                    throw new DistributedApplicationException(
                        $"'{resource.Name}' refers to '{dependency.Name}', which is not part of the app model: add it with the builder first.");
                }
            }
        }

        if (DependencyGraph.FindWaitCycle(resources) is { } cycle)
        {
            throw new DistributedApplicationException(
                $"WaitFor cycle: {string.Join(" → ", cycle.Select(r => r.Name))}. These resources wait for each other, so none of them could ever start; remove one of the WaitFor calls.");
        }
    }
}
