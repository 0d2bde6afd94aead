namespace Shop.Hosting.ApplicationModel;

public enum ResourceAnnotationMutationBehavior
{
    Append,
    Replace,
}

/// <summary>The fluent handle the AppHost uses to configure one resource.</summary>
public interface IResourceBuilder<out T> where T : IResource
{
    IDistributedApplicationBuilder ApplicationBuilder { get; }

    T Resource { get; }

    IResourceBuilder<T> WithAnnotation<TAnnotation>(TAnnotation annotation, ResourceAnnotationMutationBehavior behavior = ResourceAnnotationMutationBehavior.Append)
        where TAnnotation : IResourceAnnotation;
}

internal sealed class ResourceBuilder<T>(IDistributedApplicationBuilder applicationBuilder, T resource) : IResourceBuilder<T>
    where T : IResource
{
    public IDistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;

    public T Resource { get; } = resource;

    public IResourceBuilder<T> WithAnnotation<TAnnotation>(TAnnotation annotation, ResourceAnnotationMutationBehavior behavior = ResourceAnnotationMutationBehavior.Append)
        where TAnnotation : IResourceAnnotation
    {
        ArgumentNullException.ThrowIfNull(annotation);
        if (behavior == ResourceAnnotationMutationBehavior.Replace)
        {
            foreach (var existing in Resource.Annotations.OfType<TAnnotation>().ToList())
            {
                Resource.Annotations.Remove(existing);
            }
        }

        Resource.Annotations.Add(annotation);
        return this;
    }
}

/// <summary>The resources of the app model, in the order they were added.</summary>
public interface IResourceCollection : IEnumerable<IResource>
{
    int Count { get; }

    IResource? Find(string name);
}

internal sealed class ResourceCollection : IResourceCollection
{
    private readonly List<IResource> _resources = [];

    public int Count => _resources.Count;

    public void Add(IResource resource)
    {
        if (Find(resource.Name) is { } existing)
        {
            throw new DistributedApplicationException(
                $"Cannot add {resource}: the name '{resource.Name}' is already used by {existing}. Resource names must be unique (case-insensitive).");
        }

        _resources.Add(resource);
    }

    public IResource? Find(string name) =>
        _resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public IEnumerator<IResource> GetEnumerator() => _resources.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The finished app model, as the orchestrator sees it.</summary>
public sealed class DistributedApplicationModel(IReadOnlyList<IResource> resources)
{
    public IReadOnlyList<IResource> Resources { get; } = resources;
}
