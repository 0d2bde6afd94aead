using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;

namespace Shop.Hosting.Publishing;

/// <summary>
/// Publishes the app model as Kubernetes manifests (<c>--publisher kubernetes --output-path DIR</c>): a Deployment
/// and Service per project (replicas kept), StatefulSets for PostgreSQL (databases created by an init script),
/// Redis and Kafka, and a kustomization that generates the Secret and ConfigMap holding parameters. Every service
/// receives the same environment contract as locally; only the addresses change (<c>http://products:8080</c>).
/// Every container runs without root where its image allows it (no privilege escalation, no capabilities), with
/// CPU and memory requests and a memory limit (<c>Publishing:Resources:{name}:…</c>).
/// </summary>
internal sealed class KubernetesPublisher(
    DistributedApplicationModel model,
    IConfiguration configuration,
    IHostEnvironment environment,
    DistributedApplicationExecutionContext executionContext,
    ConsoleReporter reporter)
{
    public const string Name = "kubernetes";
    internal const int ProjectPort = 8080;
    private const string SecretName = "app-secrets";
    private const string ConfigMapName = "app-config";

    // The servers the local run uses (Debian bookworm's postgresql-15 and redis-server, the broker's Kafka protocol
    // version), pinned to exact versions; Publishing:Images:{Postgres,Redis,Kafka} replaces them.
    private const string PostgresImage = "docker.io/library/postgres:15.18";
    private const string RedisImage = "docker.io/library/redis:7.0.15";
    private const string KafkaImage = "docker.io/apache/kafka:3.9.0";

    // The users the images are built with: the .NET images' "app" (APP_UID), the official postgres and redis images'
    // postgres and redis (both 999), apache/kafka's appuser. Named explicitly because runAsNonRoot cannot check a
    // user given by name, and as fsGroup so that a fresh, root-owned volume is writable by them.
    private const int ProjectUser = 1654;
    private const int PostgresUser = 999;
    private const int RedisUser = 999;
    private const int KafkaUser = 1000;

    /// <summary>Requests and memory limits unless <c>Publishing:Resources:{name}:…</c> says otherwise.</summary>
    private static readonly ComputeResources ProjectResources = new("100m", "256Mi", "512Mi");
    private static readonly ComputeResources PostgresResources = new("250m", "256Mi", "1Gi");
    private static readonly ComputeResources RedisResources = new("100m", "128Mi", "512Mi");
    // The broker's JVM takes a 1 GiB heap (kafka-server-start.sh's default); kafka-acls.sh's 256 MiB.
    private static readonly ComputeResources KafkaResources = new("500m", "1536Mi", "2Gi");
    private static readonly ComputeResources KafkaAclResources = new("100m", "384Mi", "512Mi");

    private readonly SortedDictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _config = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];

    public async Task<IReadOnlyList<string>> PublishAsync(CancellationToken cancellationToken)
    {
        var publisher = configuration[KnownConfigNames.Publisher];
        if (!string.Equals(publisher, Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new DistributedApplicationException($"Unknown publisher '{publisher}': this AppHost publishes with --publisher {Name}.");
        }

        var output = Path.GetFullPath(configuration[KnownConfigNames.PublishOutputPath] ?? Path.Combine("artifacts", Name));
        Directory.CreateDirectory(output);
        AllocateClusterEndpoints();

        var files = new List<string>();
        foreach (var resource in model.Resources)
        {
            var manifest = resource switch
            {
                ProjectResource project when ExistingServiceUrl(project) is not null => null,
                ProjectResource project => await ProjectAsync(project, cancellationToken),
                PostgresServerResource { ExistingConnectionString: null } postgres => Postgres(postgres),
                RedisResource { ExistingConnectionString: null } redis => Redis(redis),
                KafkaServerResource { ExistingConnectionString: null } kafka => Kafka(kafka),
                ExecutableResource executable => Skip(executable),
                _ => null,
            };
            if (manifest is not null)
            {
                var file = $"{resource.Name}.yaml";
                await File.WriteAllTextAsync(Path.Combine(output, file), manifest, cancellationToken);
                files.Add(file);
            }
        }

        await WriteEnvFileAsync(Path.Combine(output, "secrets.env"), _secrets, secret: true, cancellationToken);
        await WriteEnvFileAsync(Path.Combine(output, "config.env"), _config, secret: false, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(output, "kustomization.yaml"), Kustomization(files), cancellationToken);
        files.AddRange(["secrets.env", "config.env", "kustomization.yaml"]);

        reporter.Announce(
        [
            $"Published {files.Count - 3} manifests for {model.Resources.Count} resources to {output}",
            .. _warnings.Select(w => $"  warning: {w}"),
            $"  Images expected: {ImageName("<project>")} (build and push them with `dotnet publish <project> -t:PublishContainer -p:ContainerRegistry=… -p:ContainerImageTag={ImageTag()}`).",
            $"  Deploy with: kubectl apply -k {output}",
            "  secrets.env holds generated passwords: keep it out of source control.",
        ]);
        return files;
    }

    /// <summary>
    /// In the cluster every resource is reached by its Service name on its container port. An external endpoint is
    /// reached by users at an address only the deployment knows: <c>Publishing:ExternalUrls:{resource}</c> gives it
    /// (e.g. the gateway's public URL, which is also the token issuer). Service discovery still hands other resources
    /// the in-cluster address: the storefront's calls to the gateway stay inside the cluster, with the visitor's own
    /// address in <c>X-Forwarded-For</c>, rather than arriving from the load balancer as one client.
    /// </summary>
    private void AllocateClusterEndpoints()
    {
        foreach (var resource in model.Resources)
        {
            if (resource is ProjectResource && ExistingServiceUrl(resource) is { } existing)
            {
                // Not deployed (e.g. the card gateway simulator, replaced by an adapter for the real gateway): every
                // reference to it, service discovery included, carries the given address.
                var existingUri = Uri.TryCreate(existing, UriKind.Absolute, out var parsed)
                    ? parsed
                    : throw new DistributedApplicationException($"Publishing:ExistingServices:{resource.Name} is not an absolute URL: '{existing}'.");
                foreach (var endpoint in resource.AnnotationsOf<EndpointAnnotation>())
                {
                    // Service discovery hands a caller of http://{name} only addresses of the scheme it asked for.
                    if (!string.Equals(existingUri.Scheme, endpoint.UriScheme, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new DistributedApplicationException(
                            $"Publishing:ExistingServices:{resource.Name} must be an {endpoint.UriScheme} address, as its callers ask for {endpoint.UriScheme}://{resource.Name} (e.g. an adapter or egress proxy in the cluster): '{existing}'.");
                    }

                    endpoint.Allocated.Clear();
                    endpoint.Allocated.Add(new AllocatedEndpoint(existingUri.Host, existingUri.Port, existingUri.Scheme));
                }

                continue;
            }

            foreach (var endpoint in resource.AnnotationsOf<EndpointAnnotation>())
            {
                endpoint.Allocated.Clear();
                var inCluster = new AllocatedEndpoint(resource.Name, ContainerPort(resource, endpoint), endpoint.UriScheme);
                var publicUrl = endpoint.IsExternal ? configuration[$"Publishing:ExternalUrls:{resource.Name}"] : null;
                if (publicUrl is not null && Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri))
                {
                    endpoint.Allocated.Add(new AllocatedEndpoint(uri.Host, uri.Port, uri.Scheme) { Internal = inCluster });
                    continue;
                }

                if (endpoint.IsExternal)
                {
                    _warnings.Add($"'{resource.Name}' is external but has no public URL: set Publishing:ExternalUrls:{resource.Name} (values that refer to it use the in-cluster address).");
                }

                endpoint.Allocated.Add(inCluster);
            }
        }

        // Telemetry goes where the deployment says (a collector in the cluster), never to a local dashboard.
        configuration[DashboardConfigNames.OtlpGrpcEndpointUrl] = configuration[KnownConfigNames.PublishOtlpEndpoint];
        configuration[DashboardConfigNames.OtlpApiKey] = null;
    }

    /// <summary>The address of a service the deployment already has, deployed in place of the project's.</summary>
    private string? ExistingServiceUrl(IResource resource) => configuration[$"Publishing:ExistingServices:{resource.Name}"];

    private static int ContainerPort(IResource resource, EndpointAnnotation endpoint) => resource switch
    {
        ProjectResource => ProjectPort,
        PostgresServerResource => 5432,
        RedisResource => 6379,
        KafkaServerResource => 9092,
        _ => endpoint.Port ?? ProjectPort,
    };

    private async Task<string> ProjectAsync(ProjectResource project, CancellationToken cancellationToken)
    {
        var context = new EnvironmentCallbackContext(executionContext, project, 0, cancellationToken);
        foreach (var callback in project.AnnotationsOf<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        // Inside a container the process listens on all interfaces; Development (demo accounts, detailed errors)
        // is never what a cluster gets unless asked for.
        var environment = configuration["Publishing:Environment"] ?? "Production";
        context.EnvironmentVariables[KnownEnvironmentVariables.AspNetCoreUrls] = $"http://+:{ProjectPort}";
        context.EnvironmentVariables[KnownEnvironmentVariables.AspNetCoreEnvironment] = environment;
        context.EnvironmentVariables[KnownEnvironmentVariables.DotNetEnvironment] = environment;

        var references = new SortedDictionary<string, ValueReference>(StringComparer.Ordinal);
        var variables = new List<(string Name, string Value)>();
        foreach (var (name, value) in context.EnvironmentVariables.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            variables.Add((name, await ResolveAsync(value, references, cancellationToken)));
        }

        var external = project.AnnotationsOf<EndpointAnnotation>().Any(e => e.IsExternal);
        var probe = project.AnnotationsOf<HealthCheckAnnotation>().Select(h => h.HttpProbe).FirstOrDefault(p => p is not null);
        var yaml = new YamlWriter();
        Deployment(yaml, project.Name, project.ReplicaCount(), container =>
        {
            container.Scalar("name", project.Name)
                .Scalar("image", ImageName(project.Name))
                .Sequence("ports", [project.Name], (port, _) => port.Scalar("name", "http").Scalar("containerPort", ProjectPort))
                // Secret and config values first: later values refer to them as $(NAME).
                .Sequence("env", [.. references.Values.Select(EnvEntry.From), .. variables.Select(v => EnvEntry.Literal(v.Name, v.Value))], WriteEnv);
            SecurityContext(container, ProjectUser);
            Resources(container, project.Name, ProjectResources);
            if (probe is { } http)
            {
                container.Map("readinessProbe", readiness => readiness
                    .Map("httpGet", get => get.Scalar("path", http.Path).Scalar("port", "http"))
                    .Scalar("periodSeconds", 5));
            }
        });
        Service(yaml.DocumentSeparator(), project.Name, external, [("http", ProjectPort)]);
        return yaml.ToString();
    }

    private string Postgres(PostgresServerResource postgres)
    {
        var password = ParameterReference(postgres.PasswordParameter);
        var init = new StringBuilder();
        foreach (var database in postgres.Databases.Values)
        {
            init.AppendLine(CultureInfo.InvariantCulture, $"CREATE DATABASE \"{database}\";");
        }

        var yaml = new YamlWriter()
            .Scalar("apiVersion", "v1").Scalar("kind", "ConfigMap")
            .Map("metadata", m => m.Scalar("name", $"{postgres.Name}-init").Map("labels", l => Labels(l, postgres.Name)))
            .Map("data", d => d.Scalar("init.sql", init.ToString()))
            .DocumentSeparator();
        // Started as postgres rather than root, the image's entrypoint skips its chown and creates PGDATA, a directory
        // below the volume's root (which may hold lost+found), in the fsGroup-writable volume.
        StatefulSet(yaml, postgres.Name, postgres.IsPersistent, PostgresUser, container =>
        {
            container.Scalar("name", postgres.Name)
                .Scalar("image", Image("Postgres", PostgresImage))
                .Sequence("ports", [postgres.Name], (port, _) => port.Scalar("name", "tcp").Scalar("containerPort", 5432))
                .Sequence("env", [EnvEntry.From(password with { VariableName = "POSTGRES_PASSWORD" }), EnvEntry.Literal("PGDATA", "/var/lib/postgresql/data/pgdata")], WriteEnv)
                .Sequence("volumeMounts", ["data", "init"], (mount, name) => mount
                    .Scalar("name", name)
                    .Scalar("mountPath", name == "data" ? "/var/lib/postgresql/data" : "/docker-entrypoint-initdb.d"))
                .Map("readinessProbe", probe => probe
                    .Map("exec", exec => exec.Strings("command", ["pg_isready", "-U", PostgresServerResource.SuperUser]))
                    .Scalar("periodSeconds", 5));
            SecurityContext(container, PostgresUser);
            Resources(container, postgres.Name, PostgresResources);
        },
        volumes: [new PodVolume("init", ConfigMap: $"{postgres.Name}-init")]);
        Services(yaml, postgres.Name, [("tcp", 5432)]);
        return yaml.ToString();
    }

    /// <summary>
    /// Redis with its password in a config file, never on the command line (which any process in the pod may read):
    /// the start script writes <c>requirepass</c> from the environment into a memory-backed volume, with the shell's
    /// own printf, and starts <c>redis-server</c> with that file. <c>redis-cli</c> in the readiness probe reads the
    /// same variable (<c>REDISCLI_AUTH</c>).
    /// </summary>
    private string Redis(RedisResource redis)
    {
        var password = ParameterReference(redis.PasswordParameter) with { VariableName = "REDISCLI_AUTH" };
        var script = new StringBuilder()
            .AppendLine("set -eu")
            .AppendLine("umask 077")
            // A quote or backslash in a configured password is escaped for the config file's quoted string.
            .AppendLine("""{ printf 'requirepass "'; printf '%s' "$REDISCLI_AUTH" | sed 's/["\\]/\\&/g'; printf '"\n'; } > /run/redis/redis.conf""")
            .Append("exec redis-server /run/redis/redis.conf")
            .AppendLine(redis.IsPersistent ? " --appendonly yes --dir /data" : string.Empty);
        var yaml = new YamlWriter();
        StatefulSet(yaml, redis.Name, redis.IsPersistent, RedisUser, container =>
        {
            container.Scalar("name", redis.Name)
                .Scalar("image", Image("Redis", RedisImage))
                .Strings("command", ["/bin/sh", "-c", script.ToString()])
                .Sequence("ports", [redis.Name], (port, _) => port.Scalar("name", "tcp").Scalar("containerPort", 6379))
                .Sequence("env", [EnvEntry.From(password)], WriteEnv)
                .Sequence("volumeMounts", ["data", "config"], (mount, name) => mount.Scalar("name", name).Scalar("mountPath", name == "data" ? "/data" : "/run/redis"))
                .Map("readinessProbe", probe => probe
                    .Map("exec", exec => exec.Strings("command", ["/bin/sh", "-c", "redis-cli ping | grep -qx PONG"]))
                    .Scalar("periodSeconds", 5));
            SecurityContext(container, RedisUser);
            Resources(container, redis.Name, RedisResources);
        },
        volumes: [new PodVolume("config", Memory: true)]);
        Services(yaml, redis.Name, [("tcp", 6379)]);
        return yaml.ToString();
    }

    /// <summary>
    /// A single-node KRaft broker, the cluster's stand-in for the local broker (point ConnectionStrings:kafka at a
    /// managed cluster instead for production). Like the local one it takes SASL/PLAIN only: the admin and every
    /// referencing resource's user, with their passwords from the Secret (expanded into the JAAS setting, never
    /// written into the manifest). The controller listener stays inside the pod. Like the local one it authorizes
    /// (<c>StandardAuthorizer</c>): the admin may do anything, and the grants of <see cref="KafkaAclJob"/> open reading,
    /// consumer groups and creating topics to every user and writing to each user's own topics only.
    /// </summary>
    private string Kafka(KafkaServerResource kafka)
    {
        var admin = ParameterReference(kafka.AdminPasswordParameter!);
        var users = kafka.Users.Select(user => (user.Name, Password: ParameterReference(user.PasswordParameter))).ToList();
        var jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required")
            .Append(CultureInfo.InvariantCulture, $" username=\"{KafkaServerResource.AdminUserName}\" password=\"$({admin.VariableName})\"")
            .Append(CultureInfo.InvariantCulture, $" user_{KafkaServerResource.AdminUserName}=\"$({admin.VariableName})\"");
        foreach (var (name, password) in users)
        {
            jaas.Append(CultureInfo.InvariantCulture, $" user_{name}=\"$({password.VariableName})\"");
        }

        jaas.Append(';');
        var settings = new (string, string)[]
        {
            ("KAFKA_NODE_ID", "1"),
            ("KAFKA_PROCESS_ROLES", "broker,controller"),
            ("KAFKA_LISTENERS", "SASL://:9092,CONTROLLER://localhost:9093"),
            ("KAFKA_ADVERTISED_LISTENERS", $"SASL://{kafka.Name}:9092"),
            ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
            ("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,SASL:SASL_PLAINTEXT"),
            ("KAFKA_INTER_BROKER_LISTENER_NAME", "SASL"),
            ("KAFKA_SASL_ENABLED_MECHANISMS", "PLAIN"),
            ("KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL", "PLAIN"),
            ("KAFKA_LISTENER_NAME_SASL_PLAIN_SASL_JAAS_CONFIG", jaas.ToString()),
            ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093"),
            ("KAFKA_AUTHORIZER_CLASS_NAME", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
            // The controller listener is plaintext on the pod's loopback: the broker's own requests to it come as ANONYMOUS.
            ("KAFKA_SUPER_USERS", $"User:{KafkaServerResource.AdminUserName};User:ANONYMOUS"),
            ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1"),
            ("KAFKA_NUM_PARTITIONS", "6"),
            // Below the volume's root: Kafka refuses to start beside a directory such as a fresh volume's lost+found.
            ("KAFKA_LOG_DIRS", "/var/lib/kafka/data/logs"),
        };
        var yaml = new YamlWriter();
        StatefulSet(yaml, kafka.Name, kafka.IsPersistent, KafkaUser, container =>
        {
            container.Scalar("name", kafka.Name)
                .Scalar("image", Image("Kafka", KafkaImage))
                .Sequence("ports", [kafka.Name], (port, _) => port.Scalar("name", "tcp").Scalar("containerPort", 9092))
                // The passwords first: the JAAS setting refers to them as $(NAME).
                .Sequence("env", [EnvEntry.From(admin), .. users.Select(u => EnvEntry.From(u.Password)), .. settings.Select(pair => EnvEntry.Literal(pair.Item1, pair.Item2))], WriteEnv)
                .Sequence("volumeMounts", ["data"], (mount, name) => mount.Scalar("name", name).Scalar("mountPath", "/var/lib/kafka/data"))
                // The image has no client that signs in without writing the password to a file: the listener
                // accepting connections is what it offers.
                .Map("readinessProbe", probe => probe
                    .Map("tcpSocket", socket => socket.Scalar("port", "tcp"))
                    .Scalar("periodSeconds", 5));
            SecurityContext(container, KafkaUser);
            Resources(container, kafka.Name, KafkaResources);
        });
        Services(yaml, kafka.Name, [("tcp", 9092)]);
        KafkaAclJob(yaml.DocumentSeparator(), kafka, admin);
        return yaml.ToString();
    }

    /// <summary>
    /// A Job that signs in as the admin once the broker answers and adds the grants the local broker applies (see
    /// <c>KafkaUser</c>): every user may read and describe topics and consumer groups and create topics; each may
    /// write to its own topics (a name, or a prefix for one ending with <c>*</c>). Adding a grant that exists changes
    /// nothing, so the Job can run again after every deployment.
    /// </summary>
    private void KafkaAclJob(YamlWriter yaml, KafkaServerResource kafka, ValueReference admin)
    {
        var grants = new List<string>
        {
            "--allow-principal 'User:*' --operation Read --operation Describe --topic '*'",
            "--allow-principal 'User:*' --operation Read --operation Describe --group '*'",
            "--allow-principal 'User:*' --operation Create --cluster",
        };
        foreach (var user in kafka.Users.OrderBy(u => u.Name, StringComparer.Ordinal))
        {
            foreach (var topic in user.WriteTopics)
            {
                var (pattern, topicName) = topic.EndsWith('*') ? ("prefixed", topic[..^1]) : ("literal", topic);
                grants.Add($"--allow-principal 'User:{user.Name}' --operation Write --resource-pattern-type {pattern} --topic '{topicName}'");
            }
        }

        // The password reaches the script as an environment variable from the Secret, expanded by the shell (never
        // written into the manifest or onto a command line). No command substitution: Kubernetes reads "$(" itself.
        var script = new StringBuilder()
            .AppendLine("set -eu")
            // printf is the shell's own: the password is on no process's command line.
            .AppendLine("""printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s";\n' \""")
            .AppendLine(CultureInfo.InvariantCulture, $"""  '{KafkaServerResource.AdminUserName}' "${admin.VariableName}" > /tmp/admin.properties""")
            .AppendLine(CultureInfo.InvariantCulture, $$"""acls() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server {{kafka.Name}}:9092 --command-config /tmp/admin.properties --add "$@"; }""")
            .AppendLine(CultureInfo.InvariantCulture, $"until acls {grants[0]}; do echo 'waiting for {kafka.Name}'; sleep 5; done");
        foreach (var grant in grants.Skip(1))
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"acls {grant}");
        }

        var name = $"{kafka.Name}-acls";
        yaml.Scalar("apiVersion", "batch/v1").Scalar("kind", "Job")
            .Map("metadata", m => m.Scalar("name", name).Map("labels", l => Labels(l, name)))
            .Map("spec", spec => spec
                .Scalar("backoffLimit", 10)
                // The script waits for the broker; a broker that never answers fails the Job rather than hiding.
                .Scalar("activeDeadlineSeconds", 900)
                .Map("template", template => template
                    .Map("metadata", m => m.Map("labels", l => Labels(l, name)))
                    .Map("spec", pod => pod
                        .Scalar("restartPolicy", "OnFailure")
                        .Sequence("containers", [name], (container, _) =>
                        {
                            container.Scalar("name", name)
                                .Scalar("image", Image("Kafka", KafkaImage))
                                .Strings("command", ["/bin/sh", "-c", script.ToString()])
                                .Sequence("env", [EnvEntry.From(admin)], WriteEnv);
                            SecurityContext(container, KafkaUser);
                            Resources(container, name, KafkaAclResources);
                        }))));
    }

    private string? Skip(ExecutableResource executable)
    {
        _warnings.Add($"'{executable.Name}' is an executable, not a container image: it is not published.");
        return null;
    }

    /// <summary>
    /// The manifest form of an environment value: literals as they are (with <c>$(</c> escaped), parameters and
    /// configured connection strings as <c>$(NAME)</c> of a variable read from the Secret or ConfigMap, endpoints as
    /// cluster addresses.
    /// </summary>
    private async Task<string> ResolveAsync(object value, IDictionary<string, ValueReference> references, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case string text:
                return text.Replace("$(", "$$(", StringComparison.Ordinal);
            case ParameterResource parameter:
                var reference = ParameterReference(parameter);
                references[reference.VariableName] = reference;
                return $"$({reference.VariableName})";
            case ConfigurationValue configured:
                var connection = ConfiguredValueReference(configured);
                references[connection.VariableName] = connection;
                return $"$({connection.VariableName})";
            case ReferenceExpression expression:
                var resolved = new StringBuilder();
                foreach (var part in expression.Parts)
                {
                    resolved.Append(await ResolveAsync(part, references, cancellationToken));
                }

                return resolved.ToString();
            case IValueProvider provider:
                return (await provider.GetValueAsync(cancellationToken) ?? string.Empty).Replace("$(", "$$(", StringComparison.Ordinal);
            default:
                return Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        }
    }

    private ValueReference ParameterReference(ParameterResource parameter)
    {
        var key = parameter.Name;
        var variable = $"PARAMETER_{EnvironmentName(parameter.Name)}";
        if (parameter.Secret)
        {
            // A configured value is used; otherwise a new one is generated for this deployment (never stored here).
            _secrets.TryAdd(key, configuration[KnownConfigNames.Parameter(parameter.Name)] is { Length: > 0 } configured
                ? configured
                : RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 24));
            return new ValueReference(variable, key, IsSecret: true);
        }

        if (_config.TryAdd(key, parameter.Value) && parameter.Value.Length == 0)
        {
            _warnings.Add($"Parameter '{key}' has no value: set it in config.env if the deployment needs one"
                + (parameter.Description is { } description ? $" ({description})." : "."));
        }

        return new ValueReference(variable, key, IsSecret: false);
    }

    /// <summary>A value configured for the AppHost (an existing server's connection string): it may hold a password.</summary>
    private ValueReference ConfiguredValueReference(ConfigurationValue configured)
    {
        var name = configured.Key.Replace(KnownConfigNames.ConnectionStringsSection + ":", "connectionstring-", StringComparison.Ordinal)
            .Replace(':', '-').ToLowerInvariant();
        _secrets.TryAdd(name, configuration[configured.Key]
            ?? throw new DistributedApplicationException($"'{configured.Key}' is missing: set it to publish the resources that use it."));
        return new ValueReference(EnvironmentName(name), name, IsSecret: true);
    }

    private string ImageName(string name)
    {
        var registry = configuration[KnownConfigNames.PublishImageRegistry] ?? "shop";
        return $"{registry.TrimEnd('/')}/{name}:{ImageTag()}";
    }

    /// <summary>
    /// The projects' image tag: <c>Publishing:ImageTag</c>, or else the AppHost's build version (MSBuild's
    /// <c>Version</c>, without build metadata), which a deployment can name again later, unlike <c>latest</c>.
    /// </summary>
    private string ImageTag()
    {
        if (configuration[KnownConfigNames.PublishImageTag] is { Length: > 0 } configured)
        {
            return configured;
        }

        string? version;
        try
        {
            version = Assembly.Load(new AssemblyName(environment.ApplicationName))
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        }
        catch (FileNotFoundException)
        {
            version = null;
        }

        return version is { Length: > 0 }
            ? version.Split('+')[0]
            : throw new DistributedApplicationException($"'{environment.ApplicationName}' has no version to tag the images with: set {KnownConfigNames.PublishImageTag}.");
    }

    /// <summary>A server's pinned image, or the one <c>Publishing:Images:{kind}</c> names.</summary>
    private string Image(string kind, string pinned) => configuration[$"Publishing:Images:{kind}"] ?? pinned;

    private static string EnvironmentName(string name) => name.Replace('-', '_').ToUpperInvariant();

    private static void Labels(YamlWriter labels, string name) => labels
        .Scalar("app.kubernetes.io/name", name)
        .Scalar("app.kubernetes.io/managed-by", "shop-apphost");

    private static void Deployment(YamlWriter yaml, string name, int replicas, Action<YamlWriter> container) => yaml
        .Scalar("apiVersion", "apps/v1").Scalar("kind", "Deployment")
        .Map("metadata", m => m.Scalar("name", name).Map("labels", l => Labels(l, name)))
        .Map("spec", spec => spec
            .Scalar("replicas", replicas)
            .Map("selector", s => s.Map("matchLabels", l => l.Scalar("app.kubernetes.io/name", name)))
            .Map("template", template => template
                .Map("metadata", m => m.Map("labels", l => Labels(l, name)))
                .Map("spec", pod => pod.Sequence("containers", [name], (c, _) => container(c)))));

    /// <summary>
    /// A one-replica server whose "data" volume is a claim when persistent and an emptyDir otherwise, owned by the
    /// group <paramref name="user"/> runs in (<c>fsGroup</c>), since a new volume belongs to root.
    /// </summary>
    private static void StatefulSet(YamlWriter yaml, string name, bool persistent, int user, Action<YamlWriter> container, IReadOnlyList<PodVolume>? volumes = null)
    {
        yaml.Scalar("apiVersion", "apps/v1").Scalar("kind", "StatefulSet")
            .Map("metadata", m => m.Scalar("name", name).Map("labels", l => Labels(l, name)))
            .Map("spec", spec =>
            {
                spec.Scalar("serviceName", HeadlessServiceName(name))
                    .Scalar("replicas", 1)
                    .Map("selector", s => s.Map("matchLabels", l => l.Scalar("app.kubernetes.io/name", name)))
                    .Map("template", template => template
                        .Map("metadata", m => m.Map("labels", l => Labels(l, name)))
                        .Map("spec", pod =>
                        {
                            pod.Map("securityContext", context => context.Scalar("fsGroup", user))
                                .Sequence("containers", [name], (c, _) => container(c));
                            var podVolumes = (volumes ?? []).ToList();
                            if (!persistent)
                            {
                                podVolumes.Add(new PodVolume("data"));
                            }

                            pod.Sequence("volumes", podVolumes, (volume, v) =>
                            {
                                volume.Scalar("name", v.Name);
                                if (v.ConfigMap is { } configMap)
                                {
                                    volume.Map("configMap", map => map.Scalar("name", configMap));
                                }
                                else if (v.Memory)
                                {
                                    volume.Map("emptyDir", dir => dir.Scalar("medium", "Memory"));
                                }
                                else
                                {
                                    volume.EmptyMap("emptyDir");
                                }
                            });
                        }));
                if (persistent)
                {
                    spec.Sequence("volumeClaimTemplates", [name], (claim, _) => claim
                        .Map("metadata", m => m.Scalar("name", "data"))
                        .Map("spec", s => s
                            .Strings("accessModes", ["ReadWriteOnce"])
                            .Map("resources", r => r.Map("requests", q => q.Scalar("storage", "1Gi")))));
                }
            });
    }

    /// <summary>
    /// Runs the container as <paramref name="user"/> (its image's own user, named by number so that the kubelet can
    /// check it is not root), without privilege escalation, capabilities or system calls outside the runtime's default.
    /// </summary>
    private static void SecurityContext(YamlWriter container, int user) => container.Map("securityContext", context => context
        .Scalar("runAsNonRoot", true)
        .Scalar("runAsUser", user)
        .Scalar("runAsGroup", user)
        .Scalar("allowPrivilegeEscalation", false)
        .Map("capabilities", capabilities => capabilities.Strings("drop", ["ALL"]))
        .Map("seccompProfile", profile => profile.Scalar("type", "RuntimeDefault")));

    /// <summary>
    /// CPU and memory requests and a memory limit, from <c>Publishing:Resources:{name}:Requests:Cpu</c>,
    /// <c>…:Requests:Memory</c> and <c>…:Limits:Memory</c> or the defaults; a CPU limit only when
    /// <c>…:Limits:Cpu</c> asks for one (it throttles a busy pod even on an idle node).
    /// </summary>
    private void Resources(YamlWriter container, string name, ComputeResources defaults)
    {
        var settings = configuration.GetSection($"Publishing:Resources:{name}");
        var cpuLimit = settings["Limits:Cpu"];
        container.Map("resources", resources => resources
            .Map("requests", requests => requests
                .Scalar("cpu", settings["Requests:Cpu"] ?? defaults.Cpu)
                .Scalar("memory", settings["Requests:Memory"] ?? defaults.Memory))
            .Map("limits", limits =>
            {
                if (cpuLimit is not null)
                {
                    limits.Scalar("cpu", cpuLimit);
                }

                limits.Scalar("memory", settings["Limits:Memory"] ?? defaults.MemoryLimit);
            }));
    }

    private static string HeadlessServiceName(string name) => $"{name}-headless";

    /// <summary>
    /// A server's two Services: the ClusterIP one its clients' connection strings name (<c>cache:6379</c>), and the
    /// headless one its StatefulSet governs, which gives the pod its stable DNS name (<c>cache-0.cache-headless</c>).
    /// </summary>
    private static void Services(YamlWriter yaml, string name, IReadOnlyList<(string Name, int Port)> ports)
    {
        Service(yaml.DocumentSeparator(), name, external: false, ports);
        yaml.DocumentSeparator()
            .Scalar("apiVersion", "v1").Scalar("kind", "Service")
            .Map("metadata", m => m.Scalar("name", HeadlessServiceName(name)).Map("labels", l => Labels(l, name)))
            .Map("spec", spec => spec
                .Scalar("clusterIP", "None")
                .Map("selector", s => s.Scalar("app.kubernetes.io/name", name))
                .Sequence("ports", ports, (port, p) => port.Scalar("name", p.Name).Scalar("port", p.Port).Scalar("targetPort", p.Name)));
    }

    /// <summary>
    /// A Service: a load balancer for an external resource, cluster-internal otherwise. The load balancer sends traffic
    /// only to nodes running the resource's pods (<c>externalTrafficPolicy: Local</c>), so the pods see each client's
    /// own address: the gateway limits anonymous callers by it, and the storefront passes its visitors' on.
    /// </summary>
    private static void Service(YamlWriter yaml, string name, bool external, IReadOnlyList<(string Name, int Port)> ports) => yaml
        .Scalar("apiVersion", "v1").Scalar("kind", "Service")
        .Map("metadata", m => m.Scalar("name", name).Map("labels", l => Labels(l, name)))
        .Map("spec", spec =>
        {
            spec.Scalar("type", external ? "LoadBalancer" : "ClusterIP");
            if (external)
            {
                spec.Scalar("externalTrafficPolicy", "Local");
            }

            spec.Map("selector", s => s.Scalar("app.kubernetes.io/name", name))
                .Sequence("ports", ports, (port, p) => port.Scalar("name", p.Name).Scalar("port", p.Port).Scalar("targetPort", p.Name));
        });

    private static string Kustomization(IReadOnlyList<string> files) => new YamlWriter()
        .Scalar("apiVersion", "kustomize.config.k8s.io/v1beta1")
        .Scalar("kind", "Kustomization")
        .Strings("resources", files)
        .Sequence("secretGenerator", [SecretName], (secret, name) => secret.Scalar("name", name).Strings("envs", ["secrets.env"]))
        .Sequence("configMapGenerator", [ConfigMapName], (config, name) => config.Scalar("name", name).Strings("envs", ["config.env"]))
        .ToString();

    private static async Task WriteEnvFileAsync(string path, IReadOnlyDictionary<string, string> values, bool secret, CancellationToken cancellationToken)
    {
        var text = string.Concat(values.Select(v => $"{v.Key}={v.Value}\n"));
        await File.WriteAllTextAsync(path, text, cancellationToken);
        if (secret)
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static void WriteEnv(YamlWriter variable, EnvEntry entry)
    {
        variable.Scalar("name", entry.Name);
        if (entry.Reference is { } reference)
        {
            variable.Map("valueFrom", from => from.Map(reference.IsSecret ? "secretKeyRef" : "configMapKeyRef", key => key
                .Scalar("name", reference.IsSecret ? SecretName : ConfigMapName)
                .Scalar("key", reference.Key)));
        }
        else
        {
            variable.Scalar("value", entry.Value!);
        }
    }

    private sealed record ValueReference(string VariableName, string Key, bool IsSecret);

    /// <summary>A pod volume besides "data": a ConfigMap's files, or an emptyDir (in memory when <paramref name="Memory"/>).</summary>
    private sealed record PodVolume(string Name, string? ConfigMap = null, bool Memory = false);

    /// <summary>A container's CPU and memory requests and its memory limit, in Kubernetes' quantities.</summary>
    private sealed record ComputeResources(string Cpu, string Memory, string MemoryLimit);

    /// <summary>One container environment variable: a literal value, or a key of the Secret or ConfigMap.</summary>
    private sealed record EnvEntry(string Name, string? Value, ValueReference? Reference)
    {
        public static EnvEntry Literal(string name, string value) => new(name, value, null);

        public static EnvEntry From(ValueReference reference) => new(reference.VariableName, null, reference);
    }
}
