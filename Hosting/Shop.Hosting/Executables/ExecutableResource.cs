using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

/// <summary>Any program run as a process.</summary>
public sealed class ExecutableResource(string name, string command, string workingDirectory)
    : Resource(name), IResourceWithEnvironment, IResourceWithArgs, IResourceWithServiceDiscovery, IResourceWithWaitSupport
{
    public string Command { get; } = command;

    public string WorkingDirectory { get; } = workingDirectory;
}

public static class ExecutableResourceBuilderExtensions
{
    /// <summary>Runs <paramref name="command"/> (a path, or a name found on PATH) in <paramref name="workingDirectory"/>.</summary>
    public static IResourceBuilder<ExecutableResource> AddExecutable(
        this IDistributedApplicationBuilder builder, string name, string command, string workingDirectory, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ArgumentNullException.ThrowIfNull(workingDirectory);
        ArgumentNullException.ThrowIfNull(args);

        var resource = new ExecutableResource(name, command, Path.GetFullPath(workingDirectory, builder.AppHostDirectory));
        return builder.AddResource(resource)
            .WithArgs(args)
            .WithOtlpExporter()
            .WithEnvironment(context =>
            {
                foreach (var endpoint in resource.AnnotationsOf<EndpointAnnotation>().Where(e => e.EnvironmentVariable is not null))
                {
                    context.EnvironmentVariables[endpoint.EnvironmentVariable!] = endpoint.Allocated[context.ReplicaIndex].Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            })
            .WithAnnotation(new ProcessLaunchAnnotation(context => Task.FromResult(new ProcessSpec(resource.Command)
            {
                Arguments = context.Arguments,
                WorkingDirectory = resource.WorkingDirectory,
                Environment = context.Environment,
                RemoveEnvironment = InheritedEnvironment.ContractVariables(),
            })));
    }
}
