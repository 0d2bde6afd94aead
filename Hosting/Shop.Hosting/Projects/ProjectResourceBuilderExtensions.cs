using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting;

public static class ProjectResourceBuilderExtensions
{
    /// <summary>Adds a referenced .NET project: <c>builder.AddProject&lt;Projects.Products_Api&gt;("products")</c>.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddProject(name, new TProject());
    }

    /// <summary>Adds a .NET project by the path of its project file (relative to the AppHost directory).</summary>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectPath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(projectPath);
        var fullPath = Path.GetFullPath(projectPath, builder.AppHostDirectory);
        if (Directory.Exists(fullPath))
        {
            fullPath = Directory.EnumerateFiles(fullPath, "*.csproj").SingleOrDefault()
                ?? throw new DistributedApplicationException($"'{projectPath}' is a directory without exactly one .csproj file.");
        }

        return builder.AddProject(name, new ProjectPathMetadata(fullPath));
    }

    private static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, IProjectMetadata metadata)
    {
        var resource = new ProjectResource(name, metadata);
        var project = builder.AddResource(resource);
        var profile = LaunchProfile.Read(resource.ProjectDirectory);

        project.WithAnnotation(new EndpointAnnotation("http") { DefaultPort = profile?.HttpPort });
        project.WithEnvironment(context =>
        {
            // A launch profile describes a developer's machine: it does not travel into published manifests.
            if (context.ExecutionContext.IsRunMode)
            {
                foreach (var (variable, value) in profile?.EnvironmentVariables ?? new Dictionary<string, string>())
                {
                    context.EnvironmentVariables[variable] = value;
                }
            }

            var http = resource.AnnotationsOf<EndpointAnnotation>().First(e => e.Name == "http");
            context.EnvironmentVariables[KnownEnvironmentVariables.AspNetCoreUrls] = http.Allocated[context.ReplicaIndex].Url;
            context.EnvironmentVariables.TryAdd(KnownEnvironmentVariables.AspNetCoreEnvironment, builder.Environment.EnvironmentName);
            context.EnvironmentVariables.TryAdd(KnownEnvironmentVariables.DotNetEnvironment, builder.Environment.EnvironmentName);
            context.EnvironmentVariables["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true";
        });
        project.WithOtlpExporter();
        project.WithAnnotation(new ProcessLaunchAnnotation(context => Task.FromResult(CreateProcessSpec(resource, context))));
        return project;
    }

    /// <summary>
    /// The OpenTelemetry variables Aspire gives every resource: the OTLP endpoint of the dashboard (when one is
    /// configured), its API key, the service name and instance id, and short export intervals in run mode.
    /// </summary>
    public static IResourceBuilder<T> WithOtlpExporter<T>(this IResourceBuilder<T> builder) where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.ApplicationBuilder.Configuration;
        var executionContext = builder.ApplicationBuilder.ExecutionContext;
        return builder.WithEnvironment(context =>
        {
            var variables = context.EnvironmentVariables;
            var instanceId = context.Resource.ReplicaCount() > 1 ? $"{context.Resource.Name}-{context.ReplicaIndex}" : context.Resource.Name;
            variables[KnownEnvironmentVariables.OtelServiceName] = context.Resource.Name;
            variables[KnownEnvironmentVariables.OtelResourceAttributes] = $"service.instance.id={instanceId}";
            if (configuration[DashboardConfigNames.OtlpGrpcEndpointUrl] is { Length: > 0 } otlpEndpoint)
            {
                variables[KnownEnvironmentVariables.OtlpEndpoint] = otlpEndpoint;
                variables[KnownEnvironmentVariables.OtlpProtocol] = "grpc";
                if (configuration[DashboardConfigNames.OtlpApiKey] is { Length: > 0 } apiKey)
                {
                    variables[KnownEnvironmentVariables.OtlpHeaders] = $"x-otlp-api-key={apiKey}";
                }
            }

            if (executionContext.IsRunMode)
            {
                // Export every second so the dashboard feels live (the SDK defaults are 5 to 60 seconds).
                variables[KnownEnvironmentVariables.OtelBatchSpanDelay] = "1000";
                variables[KnownEnvironmentVariables.OtelBatchLogDelay] = "1000";
                variables[KnownEnvironmentVariables.OtelMetricExportInterval] = "1000";
                variables[KnownEnvironmentVariables.OtelTracesSampler] = "always_on";
            }

            variables[KnownEnvironmentVariables.ConsoleFormatter] = "simple";
            variables[KnownEnvironmentVariables.AllowAnsiRedirection] = "true";
        });
    }

    private static ProcessSpec CreateProcessSpec(ProjectResource resource, ProcessLaunchContext context)
    {
        var assembly = FindBuiltAssembly(resource);
        return new ProcessSpec("dotnet")
        {
            Arguments = [assembly, .. context.Arguments],
            WorkingDirectory = resource.ProjectDirectory,
            Environment = context.Environment,
            RemoveEnvironment = InheritedEnvironment.ContractVariables(),
        };
    }

    private static string FindBuiltAssembly(ProjectResource resource)
    {
        if (resource.Metadata.TargetPath is { } targetPath)
        {
            return File.Exists(targetPath)
                ? targetPath
                : throw new DistributedApplicationException(
                    $"project '{resource.Name}' has not been built: {targetPath} does not exist. Build the AppHost (it builds the projects it references), e.g. `dotnet build {Path.GetFileName(resource.Metadata.ProjectPath)}`.");
        }

        // A project added by path: take its most recently built assembly.
        var assemblyName = Path.GetFileNameWithoutExtension(resource.Metadata.ProjectPath) + ".dll";
        var binDirectory = Path.Combine(resource.ProjectDirectory, "bin");
        var built = Directory.Exists(binDirectory)
            ? Directory.EnumerateFiles(binDirectory, assemblyName, SearchOption.AllDirectories)
                .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}publish{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .FirstOrDefault()
            : null;
        return built ?? throw new DistributedApplicationException(
            $"project '{resource.Name}' has not been built: no {assemblyName} under {binDirectory}. Run `dotnet build {resource.Metadata.ProjectPath}`.");
    }
}

/// <summary>Variables of the AppHost's own environment a child must not inherit: the contract sets them per resource.</summary>
internal static class InheritedEnvironment
{
    // The dashboard's settings too: an inherited ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS or Dashboard__Frontend__AuthMode
    // would otherwise switch off the sign-in of the dashboard the AppHost starts. (DOTNET_ variables reach a web
    // app's configuration with the prefix removed.)
    private static readonly string[] ContractPrefixes =
    [
        "ConnectionStrings__", "services__", "OTEL_", "ASPNETCORE_", "Parameters__", "DOTNET_ENVIRONMENT", "AppHost__",
        "DOTNET_DASHBOARD_", "ASPIRE_DASHBOARD_", "Dashboard__", "Dashboard:", "DOTNET_Dashboard:",
    ];

    public static IReadOnlyList<string> ContractVariables() =>
    [
        .. System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => ContractPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))),
    ];

    /// <summary>The AppHost's own variables whose names start with <paramref name="prefix"/> (case-sensitive, as POSIX names are).</summary>
    public static IReadOnlyList<string> Named(string prefix) =>
    [
        .. System.Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(name => name.StartsWith(prefix, StringComparison.Ordinal)),
    ];
}

/// <summary>Configuration keys through which the dashboard integration tells resources where to send telemetry.</summary>
public static class DashboardConfigNames
{
    /// <summary>The OTLP/gRPC endpoint every resource exports to (Aspire's name for it).</summary>
    public const string OtlpGrpcEndpointUrl = "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL";

    /// <summary>The API key resources send as <c>x-otlp-api-key</c>.</summary>
    public const string OtlpApiKey = "AppHost:OtlpApiKey";
}
