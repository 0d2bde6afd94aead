using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>
/// Describes a .NET project the AppHost references. The build generates one class per project reference in the
/// <c>Projects</c> namespace (<c>Projects.Products_Api</c>), as Aspire's SDK does.
/// </summary>
public interface IProjectMetadata
{
    /// <summary>Full path of the project file.</summary>
    string ProjectPath { get; }

    /// <summary>Full path of the project's built assembly, when the build recorded it.</summary>
    string? TargetPath => null;
}

/// <summary>A .NET project run as one process per replica.</summary>
public sealed class ProjectResource(string name, IProjectMetadata metadata)
    : Resource(name), IResourceWithEnvironment, IResourceWithArgs, IResourceWithServiceDiscovery, IResourceWithWaitSupport
{
    public IProjectMetadata Metadata { get; } = metadata;

    public string ProjectDirectory => Path.GetDirectoryName(Metadata.ProjectPath)!;
}

/// <summary>Project metadata for a project given by path rather than by a generated <c>Projects.*</c> type.</summary>
internal sealed class ProjectPathMetadata(string projectPath) : IProjectMetadata
{
    public string ProjectPath { get; } = projectPath;
}
