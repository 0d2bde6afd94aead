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
    /// The broker it runs requires SASL/PLAIN (see <see cref="WithReference{TDestination}(IResourceBuilder{TDestination}, IResourceBuilder{KafkaServerResource}, string?)"/>);
    /// its admin password is the generated parameter <c>{name}-admin-password</c>. Healthy once the broker answers a
    /// Metadata request (made as the admin), or, for an existing cluster, an ApiVersions request.
    /// </summary>
    public static IResourceBuilder<KafkaServerResource> AddKafka(this IDistributedApplicationBuilder builder, string name, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResourceNames.Validate(name);

        var existing = ConfigurationValue.ConnectionString(builder.Configuration, name);
        var adminPassword = existing is null ? ParameterResourceBuilderExtensions.CreateGeneratedSecret(builder, $"{name}-admin-password") : null;
        var resource = new KafkaServerResource(name, existing, adminPassword);
        var kafka = builder.AddResource(resource)
            .WithHealthCheck(existing is null ? "Metadata" : "ApiVersions", async (_, cancellationToken) =>
                await KafkaProbe.CheckAsync(
                    await resource.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? string.Empty,
                    adminPassword is null ? null : (KafkaServerResource.AdminUserName, adminPassword.Value),
                    cancellationToken));
        if (resource.ExistingConnectionString is not null)
        {
            return kafka;
        }

        var configuration = builder.Configuration;
        var applicationName = builder.Environment.ApplicationName;
        return kafka
            .WithAnnotation(new EndpointAnnotation(KafkaServerResource.PrimaryEndpointName, "tcp", port))
            .WithOtlpExporter()
            // Users reach the broker through its environment, never its command line; their passwords are secret
            // parameters, so the dashboard masks them.
            .WithEnvironment(context =>
            {
                context.EnvironmentVariables[KafkaEnvironment.BrokerUser(KafkaServerResource.AdminUserName, "Password")] = adminPassword!;
                context.EnvironmentVariables[KafkaEnvironment.BrokerUser(KafkaServerResource.AdminUserName, "SuperUser")] = "true";
                foreach (var user in resource.Users)
                {
                    context.EnvironmentVariables[KafkaEnvironment.BrokerUser(user.Name, "Password")] = user.PasswordParameter;
                    context.EnvironmentVariables[KafkaEnvironment.BrokerUser(user.Name, "Write")] = string.Join(',', user.WriteTopics);
                }
            })
            .WithAnnotation(new ProcessLaunchAnnotation(context =>
            {
                var broker = HostingTools.Resolve(configuration, applicationName, HostingTools.KafkaBroker);
                var directory = context.Services.GetRequiredService<DataDirectories>().GetResourceDirectory(resource.Name, resource.IsPersistent);
                DataDirectories.CreatePrivateDirectory(directory);
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

    /// <summary>
    /// Passes the bootstrap servers as <c>ConnectionStrings__{name}</c>, and, for the broker the AppHost runs, the
    /// resource's own SASL/PLAIN credentials: a user named after the resource with a generated password (parameter
    /// <c>{kafka}-{resource}-password</c>), as the librdkafka settings Shop.Confluent.Kafka binds for its producers and
    /// consumers (<c>Kafka__Producer__Config__SecurityProtocol</c>, <c>…__SaslMechanism</c>, <c>…__SaslUsername</c>,
    /// <c>…__SaslPassword</c>, the same under <c>Kafka__Consumer__Config</c>). The user may read every topic but
    /// write none until <see cref="WithKafkaWriteAccess"/> grants it some. An existing cluster gets nothing but the
    /// connection string.
    /// </summary>
    public static IResourceBuilder<TDestination> WithReference<TDestination>(
        this IResourceBuilder<TDestination> builder, IResourceBuilder<KafkaServerResource> source, string? connectionName = null)
        where TDestination : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        builder.WithReference((IResourceBuilder<IResourceWithConnectionString>)source, connectionName);
        if (!source.Resource.RequiresAuthentication)
        {
            return builder;
        }

        var user = UserOf(builder, source);
        return builder.WithEnvironment(context =>
        {
            foreach (var section in KafkaEnvironment.ClientConfigSections)
            {
                context.EnvironmentVariables[$"{section}__{KafkaEnvironment.SecurityProtocol}"] = KafkaEnvironment.SaslPlaintext;
                context.EnvironmentVariables[$"{section}__{KafkaEnvironment.SaslMechanism}"] = KafkaEnvironment.Plain;
                context.EnvironmentVariables[$"{section}__{KafkaEnvironment.SaslUsername}"] = user.Name;
                context.EnvironmentVariables[$"{section}__{KafkaEnvironment.SaslPassword}"] = user.PasswordParameter;
            }
        });
    }

    /// <summary>
    /// Lets the resource's Kafka user produce to <paramref name="topics"/> (names, or prefixes ending with <c>*</c>),
    /// and delete them or add partitions to them: the topics it publishes, and its dead-letter topic. Producing to any
    /// other topic is refused with TOPIC_AUTHORIZATION_FAILED. For an existing cluster this does nothing: its ACLs
    /// are configured there.
    /// </summary>
    public static IResourceBuilder<TDestination> WithKafkaWriteAccess<TDestination>(
        this IResourceBuilder<TDestination> builder, IResourceBuilder<KafkaServerResource> kafka, params string[] topics)
        where TDestination : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var topic in topics)
        {
            if (string.IsNullOrWhiteSpace(topic) || topic.Contains(',', StringComparison.Ordinal) || topic.Trim() != topic
                || (topic.Contains('*', StringComparison.Ordinal) && topic.IndexOf('*', StringComparison.Ordinal) != topic.Length - 1))
            {
                throw new ArgumentException(
                    $"'{topic}' is not a topic for {builder.Resource.Name}'s write access: give a topic name, or a prefix ending with '*'.", nameof(topics));
            }
        }

        if (kafka.Resource.RequiresAuthentication)
        {
            UserOf(builder, kafka).AllowWrite(topics);
        }

        return builder;
    }

    private static KafkaUser UserOf<TDestination>(IResourceBuilder<TDestination> builder, IResourceBuilder<KafkaServerResource> kafka)
        where TDestination : IResource =>
        kafka.Resource.GetOrAddUser(builder.Resource.Name, () =>
            ParameterResourceBuilderExtensions.CreateGeneratedSecret(builder.ApplicationBuilder, $"{kafka.Resource.Name}-{builder.Resource.Name}-password"));
}
