using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Kafka;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting;

public static class KafkaBuilderExtensions
{
    /// <summary>
    /// Adds a Kafka broker: Shop's own Kafka-wire-compatible broker (Hosting/Shop.KafkaBroker) on its own port
    /// and data directory, or, when <c>ConnectionStrings:{name}</c> is configured, that existing cluster.
    /// Healthy once a Metadata request is answered.
    /// </summary>
    public static IResourceBuilder<KafkaServerResource> AddKafka(this IDistributedApplicationBuilder builder, string name, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);

        var existing = ConfigurationValue.ConnectionString(builder.Configuration, name);
        var resource = new KafkaServerResource(name, existing);
        var kafka = builder.AddResource(resource)
            .WithHealthCheck("Metadata", async (_, cancellationToken) =>
                await KafkaMetadataProbe.CheckAsync(await resource.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? string.Empty, cancellationToken));
        if (resource.ExistingConnectionString is not null)
        {
            return kafka;
        }

        var configuration = builder.Configuration;
        var applicationName = builder.Environment.ApplicationName;
        return kafka
            .WithAnnotation(new EndpointAnnotation(KafkaServerResource.PrimaryEndpointName, "tcp", port))
            .WithOtlpExporter()
            .WithAnnotation(new ProcessLaunchAnnotation(context =>
            {
                var broker = HostingTools.Resolve(configuration, applicationName, HostingTools.KafkaBroker);
                var directory = context.Services.GetRequiredService<DataDirectories>().GetResourceDirectory(resource.Name, resource.IsPersistent);
                Directory.CreateDirectory(directory);
                var endpoint = resource.PrimaryEndpoint.Allocated;
                return Task.FromResult(new ProcessSpec("dotnet")
                {
                    Arguments =
                    [
                        broker,
                        "--host", endpoint.Host,
                        "--advertised-host", endpoint.Host,
                        "--port", endpoint.Port.ToString(CultureInfo.InvariantCulture),
                        "--data-dir", directory,
                        // Events are acknowledged only once on disk: a killed broker loses nothing it confirmed.
                        "--flush", "always",
                        // Enough partitions for replicas of a consumer group to share the work.
                        "--default-partitions", "6",
                        .. context.Arguments,
                    ],
                    WorkingDirectory = directory,
                    Environment = context.Environment,
                    RemoveEnvironment = InheritedEnvironment.ContractVariables(),
                });
            }));
    }

    /// <summary>Keeps the broker's logs and committed offsets between runs.</summary>
    public static IResourceBuilder<KafkaServerResource> WithDataVolume(this IResourceBuilder<KafkaServerResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.IsPersistent = true;
        return builder;
    }
}
