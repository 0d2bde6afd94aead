using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Shop.Hosting;

/// <summary>
/// Programs the hosting layer runs itself (the Kafka broker, the dashboard), built with the AppHost: their paths
/// are recorded in the AppHost's assembly metadata by <c>Shop.Hosting.AppHost.targets</c>.
/// </summary>
internal static class HostingTools
{
    public const string KafkaBroker = "kafka-broker";
    public const string Dashboard = "dashboard";

    /// <summary>The built assembly of a tool; <c>AppHost:Tools:{name}</c> overrides the recorded path.</summary>
    public static string Resolve(IConfiguration configuration, string applicationName, string tool)
    {
        var path = configuration[$"AppHost:Tools:{tool}"] ?? ReadMetadata(applicationName, tool);
        if (path is null)
        {
            throw new DistributedApplicationException(
                $"'{applicationName}' does not know where the {tool} is built: import Shop.Hosting.AppHost.targets in the AppHost project (it references the tool), or set AppHost:Tools:{tool}.");
        }

        return File.Exists(path)
            ? path
            : throw new DistributedApplicationException($"the {tool} has not been built: {path} does not exist. Build the AppHost (it builds the tool too).");
    }

    private static string? ReadMetadata(string applicationName, string tool)
    {
        try
        {
            return Assembly.Load(new AssemblyName(applicationName))
                .GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == $"shop.tool.{tool}")?.Value;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
