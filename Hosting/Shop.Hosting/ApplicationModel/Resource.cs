using System.Collections.ObjectModel;
using System.Text.RegularExpressions;

namespace Shop.Hosting.ApplicationModel;

/// <summary>Something the AppHost runs or refers to: a project, a server, a database, a parameter.</summary>
public interface IResource
{
    string Name { get; }

    ResourceAnnotationCollection Annotations { get; }
}

/// <summary>Metadata attached to a resource; the orchestrator reads annotations, builders write them.</summary>
public interface IResourceAnnotation;

public sealed class ResourceAnnotationCollection : Collection<IResourceAnnotation>;

public abstract partial class Resource : IResource
{
    protected Resource(string name)
    {
        ResourceNames.Validate(name);
        Name = name;
    }

    public string Name { get; }

    public ResourceAnnotationCollection Annotations { get; } = [];

    public override string ToString() => $"{GetType().Name} '{Name}'";
}

public static partial class ResourceNames
{
    /// <summary>
    /// Names become host names (<c>http://products</c>), environment-variable segments and directory names,
    /// so they follow DNS label rules: ASCII letters, digits and single hyphens, starting with a letter.
    /// </summary>
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Length > 64 || !ValidName().IsMatch(name) || name.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"'{name}' is not a valid resource name: use 1–64 ASCII letters, digits and single hyphens, starting with a letter and not ending with a hyphen.",
                nameof(name));
        }
    }

    [GeneratedRegex("^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")]
    private static partial Regex ValidName();
}

public static class ResourceExtensions
{
    public static IEnumerable<T> AnnotationsOf<T>(this IResource resource) where T : IResourceAnnotation =>
        resource.Annotations.OfType<T>();

    public static bool TryGetLastAnnotation<T>(this IResource resource, out T annotation) where T : class, IResourceAnnotation
    {
        annotation = resource.Annotations.OfType<T>().LastOrDefault()!;
        return annotation is not null;
    }

    /// <summary>How many processes run this resource (1 unless <c>WithReplicas</c> says otherwise).</summary>
    public static int ReplicaCount(this IResource resource) =>
        resource.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas) ? replicas.Replicas : 1;
}
