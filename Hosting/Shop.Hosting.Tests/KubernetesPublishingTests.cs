using System.Reflection;
using k8s;
using k8s.Models;
using Shop.Hosting.Orchestration;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>
/// <c>--publisher kubernetes</c>: the same app model as Kubernetes manifests, read back into Kubernetes' own types.
/// </summary>
public sealed class KubernetesPublishingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("shop-k8s-").FullName;

    [Fact]
    public async Task The_app_model_publishes_as_deployments_services_and_statefulsets_with_the_same_environment_contract()
    {
        var builder = TestApp.Create(
            output,
            "--publisher", "kubernetes", "--output-path", _output,
            "--Publishing:ImageRegistry=registry.example/shop", "--Publishing:ImageTag=1.2.3",
            "--Publishing:ExternalUrls:web=https://shop.example.com",
            "--Publishing:OtlpEndpoint=http://collector:4317",
            "--Parameters:api-key=configured-secret-value",
            "--ConnectionStrings:legacy=Host=legacy.example;Password=legacy-secret");
        var postgres = builder.AddPostgres("postgres").WithDataVolume();
        var db = postgres.AddDatabase("appdb");
        postgres.AddDatabase("otherdb");
        var cache = builder.AddRedis("cache");
        var kafka = builder.AddKafka("kafka");
        var apiKey = builder.AddParameter("api-key", secret: true);
        var limit = builder.AddParameter("limit", "42");
        var legacy = builder.AddConnectionString("legacy");
        var api = builder.AddProject<Projects.EnvironmentReporter>("api")
            .WithReplicas(3)
            .WithReference(db).WaitFor(db)
            .WithReference(cache)
            .WithReference(kafka)
            .WithKafkaWriteAccess(kafka, "api.events", "api.audit.*")
            .WithReference(legacy)
            .WithEnvironment("Api__Key", apiKey)
            .WithEnvironment("Api__Limit", limit)
            .WithEnvironment("Literal", "costs $(not-a-variable)")
            .WithHttpHealthCheck("/health");
        var front = builder.AddProject<Projects.EnvironmentReporter>("web")
            .WithExternalHttpEndpoints()
            .WithReference(api);
        // A neighbour of an external resource calls it inside the cluster; its public URL is what users are given.
        builder.AddProject<Projects.EnvironmentReporter>("worker")
            .WithReference(front)
            .WithEnvironment("Web__PublicUrl", front.GetEndpoint("http"));

        Assert.True(builder.ExecutionContext.IsPublishMode);
        await using var app = await builder.BuildAsync();
        var files = await app.PublishAsync();

        Assert.Equal(
            ["api.yaml", "cache.yaml", "config.env", "kafka.yaml", "kustomization.yaml", "postgres.yaml", "secrets.env", "web.yaml", "worker.yaml"],
            files.Order());

        var apiDeployment = Load<V1Deployment>("api.yaml");
        var container = apiDeployment.Spec.Template.Spec.Containers.Single();
        Assert.Equal(3, apiDeployment.Spec.Replicas);
        Assert.Equal("registry.example/shop/api:1.2.3", container.Image);
        Assert.Equal(8080, container.Ports.Single().ContainerPort);
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        var env = container.Env.ToDictionary(e => e.Name);
        Assert.Equal("Host=postgres;Port=5432;Username=postgres;Password=$(PARAMETER_POSTGRES_PASSWORD);Database=appdb", env["ConnectionStrings__appdb"].Value);
        Assert.Equal("cache:6379,password=$(PARAMETER_CACHE_PASSWORD)", env["ConnectionStrings__cache"].Value);
        Assert.Equal("kafka:9092", env["ConnectionStrings__kafka"].Value);
        // The service signs in to the published broker as its own user, its password from the Secret.
        Assert.Equal("SaslPlaintext", env["Kafka__Consumer__Config__SecurityProtocol"].Value);
        Assert.Equal("api", env["Kafka__Producer__Config__SaslUsername"].Value);
        Assert.Equal("$(PARAMETER_KAFKA_API_PASSWORD)", env["Kafka__Producer__Config__SaslPassword"].Value);
        Assert.Equal(("app-secrets", "kafka-api-password"), (env["PARAMETER_KAFKA_API_PASSWORD"].ValueFrom.SecretKeyRef.Name, env["PARAMETER_KAFKA_API_PASSWORD"].ValueFrom.SecretKeyRef.Key));
        Assert.Equal("$(CONNECTIONSTRING_LEGACY)", env["ConnectionStrings__legacy"].Value);
        Assert.Equal(("app-secrets", "connectionstring-legacy"), (env["CONNECTIONSTRING_LEGACY"].ValueFrom.SecretKeyRef.Name, env["CONNECTIONSTRING_LEGACY"].ValueFrom.SecretKeyRef.Key));
        Assert.Equal("$(PARAMETER_API_KEY)", env["Api__Key"].Value);
        Assert.Equal("$(PARAMETER_LIMIT)", env["Api__Limit"].Value);
        Assert.Equal("costs $$(not-a-variable)", env["Literal"].Value);
        Assert.Equal("http://+:8080", env["ASPNETCORE_URLS"].Value);
        Assert.Equal("Production", env["ASPNETCORE_ENVIRONMENT"].Value);
        Assert.Equal("http://collector:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"].Value);
        Assert.Equal("api", env["OTEL_SERVICE_NAME"].Value);
        Assert.DoesNotContain("REPORTER_FROM_LAUNCH_PROFILE", env.Keys);
        Assert.Equal(("app-secrets", "postgres-password"), (env["PARAMETER_POSTGRES_PASSWORD"].ValueFrom.SecretKeyRef.Name, env["PARAMETER_POSTGRES_PASSWORD"].ValueFrom.SecretKeyRef.Key));
        Assert.Equal(("app-config", "limit"), (env["PARAMETER_LIMIT"].ValueFrom.ConfigMapKeyRef.Name, env["PARAMETER_LIMIT"].ValueFrom.ConfigMapKeyRef.Key));
        // $(NAME) only expands variables defined before it.
        var names = container.Env.Select(e => e.Name).ToList();
        Assert.True(names.IndexOf("PARAMETER_POSTGRES_PASSWORD") < names.IndexOf("ConnectionStrings__appdb"));

        var web = Load<V1Deployment>("web.yaml").Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal("http://api:8080", web["services__api__http__0"].Value);
        Assert.DoesNotContain("services__api__http__1", web.Keys);
        var webService = LoadAll("web.yaml").OfType<V1Service>().Single().Spec;
        Assert.Equal(("LoadBalancer", "Local"), (webService.Type, webService.ExternalTrafficPolicy));
        Assert.Equal(("ClusterIP", null), (LoadAll("api.yaml").OfType<V1Service>().Single().Spec.Type, LoadAll("api.yaml").OfType<V1Service>().Single().Spec.ExternalTrafficPolicy));
        var worker = Load<V1Deployment>("worker.yaml").Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal("http://web:8080", worker["services__web__http__0"].Value);
        Assert.Equal("https://shop.example.com", worker["Web__PublicUrl"].Value);

        var postgresObjects = LoadAll("postgres.yaml");
        var statefulSet = postgresObjects.OfType<V1StatefulSet>().Single();
        Assert.Equal("data", statefulSet.Spec.VolumeClaimTemplates.Single().Metadata.Name);
        Assert.Equal("CREATE DATABASE \"appdb\";\nCREATE DATABASE \"otherdb\";\n", postgresObjects.OfType<V1ConfigMap>().Single().Data["init.sql"]);
        Assert.Equal(5432, postgresObjects.OfType<V1Service>().Single(s => s.Metadata.Name == "postgres").Spec.Ports.Single().Port);
        Assert.NotNull(LoadAll("cache.yaml").OfType<V1StatefulSet>().Single().Spec.Template.Spec.Volumes.Single(v => v.Name == "data").EmptyDir);

        // The published broker takes SASL/PLAIN only, with the same users, their passwords expanded from the Secret.
        var kafkaEnv = LoadAll("kafka.yaml").OfType<V1StatefulSet>().Single().Spec.Template.Spec.Containers.Single().Env.ToList();
        var kafkaVariables = kafkaEnv.ToDictionary(e => e.Name);
        Assert.Equal("CONTROLLER:PLAINTEXT,SASL:SASL_PLAINTEXT", kafkaVariables["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].Value);
        Assert.Equal("SASL://kafka:9092", kafkaVariables["KAFKA_ADVERTISED_LISTENERS"].Value);
        var jaas = kafkaVariables["KAFKA_LISTENER_NAME_SASL_PLAIN_SASL_JAAS_CONFIG"].Value;
        Assert.Contains("user_admin=\"$(PARAMETER_KAFKA_ADMIN_PASSWORD)\"", jaas);
        Assert.Contains("user_api=\"$(PARAMETER_KAFKA_API_PASSWORD)\"", jaas);
        Assert.Equal(("app-secrets", "kafka-api-password"), (kafkaVariables["PARAMETER_KAFKA_API_PASSWORD"].ValueFrom.SecretKeyRef.Name, kafkaVariables["PARAMETER_KAFKA_API_PASSWORD"].ValueFrom.SecretKeyRef.Key));
        Assert.True(kafkaEnv.FindIndex(e => e.Name == "PARAMETER_KAFKA_API_PASSWORD") < kafkaEnv.FindIndex(e => e.Name == "KAFKA_LISTENER_NAME_SASL_PLAIN_SASL_JAAS_CONFIG"));
        // It authorizes as the local one does: a Job signs in as the admin and grants reading to everyone, writing to
        // each service's own topics only.
        Assert.Equal("org.apache.kafka.metadata.authorizer.StandardAuthorizer", kafkaVariables["KAFKA_AUTHORIZER_CLASS_NAME"].Value);
        Assert.Equal("User:admin;User:ANONYMOUS", kafkaVariables["KAFKA_SUPER_USERS"].Value);
        var aclJob = LoadAll("kafka.yaml").OfType<V1Job>().Single().Spec.Template.Spec;
        var aclContainer = aclJob.Containers.Single();
        Assert.Equal("OnFailure", aclJob.RestartPolicy);
        Assert.Equal(("app-secrets", "kafka-admin-password"), (aclContainer.Env.Single().ValueFrom.SecretKeyRef.Name, aclContainer.Env.Single().ValueFrom.SecretKeyRef.Key));
        var script = aclContainer.Command[^1];
        Assert.Contains("--allow-principal 'User:*' --operation Read --operation Describe --topic '*'", script, StringComparison.Ordinal);
        Assert.Contains("--allow-principal 'User:*' --operation Read --operation Describe --group '*'", script, StringComparison.Ordinal);
        Assert.Contains("--allow-principal 'User:api' --operation Write --resource-pattern-type literal --topic 'api.events'", script, StringComparison.Ordinal);
        Assert.Contains("--allow-principal 'User:api' --operation Write --resource-pattern-type prefixed --topic 'api.audit.'", script, StringComparison.Ordinal);
        Assert.DoesNotContain("$(", script, StringComparison.Ordinal);
        await RunAclScriptAsync(script);

        // Secrets only in secrets.env (owner-only), never in the manifests.
        var secrets = ReadEnvFile("secrets.env");
        Assert.Equal("configured-secret-value", secrets["api-key"]);
        Assert.Equal("Host=legacy.example;Password=legacy-secret", secrets["connectionstring-legacy"]);
        Assert.Matches("^[A-Za-z0-9]{24}$", secrets["postgres-password"]);
        Assert.Matches("^[A-Za-z0-9]{24}$", secrets["kafka-admin-password"]);
        Assert.Matches("^[A-Za-z0-9]{24}$", secrets["kafka-api-password"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_output, "secrets.env")));
        Assert.Equal("42", ReadEnvFile("config.env")["limit"]);
        foreach (var manifest in files.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal)))
        {
            var text = await File.ReadAllTextAsync(Path.Combine(_output, manifest));
            Assert.All(secrets.Values, secret => Assert.DoesNotContain(secret, text, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Every_container_runs_unprivileged_with_requests_and_limits_from_pinned_images()
    {
        var builder = TestApp.Create(
            output,
            "--publisher", "kubernetes", "--output-path", _output,
            "--Publishing:ImageRegistry=registry.example/shop",
            "--Publishing:Resources:api:Requests:Memory=1Gi", "--Publishing:Resources:api:Limits:Cpu=2",
            "--Publishing:Images:Redis=mirror.example/redis:7.0.15");
        var db = builder.AddPostgres("postgres").WithDataVolume().AddDatabase("appdb");
        var cache = builder.AddRedis("cache").WithDataVolume();
        var kafka = builder.AddKafka("kafka").WithDataVolume();
        builder.AddProject<Projects.EnvironmentReporter>("api").WithReference(db).WithReference(cache).WithReference(kafka);
        await using var app = await builder.BuildAsync();
        var files = await app.PublishAsync();

        var objects = files.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) && f != "kustomization.yaml").SelectMany(LoadAll).ToList();
        var pods = objects.Select(o => o switch
        {
            V1Deployment d => (d.Metadata.Name, d.Spec.Template.Spec),
            V1StatefulSet s => (s.Metadata.Name, s.Spec.Template.Spec),
            V1Job j => (j.Metadata.Name, j.Spec.Template.Spec),
            _ => default,
        }).Where(p => p.Spec is not null).ToDictionary(p => p.Name, p => p.Spec);
        Assert.Equal(["api", "cache", "kafka", "kafka-acls", "postgres"], pods.Keys.Order());
        var containers = pods.ToDictionary(p => p.Key, p => p.Value.Containers.Single());
        foreach (var (name, container) in containers)
        {
            var security = container.SecurityContext;
            Assert.True(security.RunAsNonRoot, name);
            Assert.NotNull(security.RunAsUser);
            Assert.False(security.AllowPrivilegeEscalation, name);
            Assert.Equal(["ALL"], security.Capabilities.Drop);
            Assert.Equal("RuntimeDefault", security.SeccompProfile.Type);
            Assert.True(container.Resources.Requests.ContainsKey("cpu"), name);
            Assert.True(container.Resources.Requests.ContainsKey("memory"), name);
            Assert.True(container.Resources.Limits.ContainsKey("memory"), name);
            Assert.DoesNotContain(":latest", container.Image, StringComparison.Ordinal);
        }

        // The images' own users; the volumes belong to their groups.
        Assert.Equal(
            [("api", 1654L), ("cache", 999L), ("kafka", 1000L), ("kafka-acls", 1000L), ("postgres", 999L)],
            containers.Select(c => (c.Key, c.Value.SecurityContext.RunAsUser!.Value)).Order());
        foreach (var server in new[] { "cache", "kafka", "postgres" })
        {
            Assert.Equal(containers[server].SecurityContext.RunAsUser, pods[server].SecurityContext.FsGroup);
        }

        Assert.Equal("docker.io/library/postgres:15.18", containers["postgres"].Image);
        Assert.Equal("mirror.example/redis:7.0.15", containers["cache"].Image);
        Assert.Equal("docker.io/apache/kafka:3.9.0", containers["kafka"].Image);
        // The projects' tag: the AppHost's build version, unless Publishing:ImageTag names one.
        var version = typeof(KubernetesPublishingTests).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        Assert.Equal($"registry.example/shop/api:{version}", containers["api"].Image);

        Assert.Equal(("1Gi", "100m", "2", "512Mi"), (containers["api"].Resources.Requests["memory"].ToString(), containers["api"].Resources.Requests["cpu"].ToString(), containers["api"].Resources.Limits["cpu"].ToString(), containers["api"].Resources.Limits["memory"].ToString()));
        Assert.False(containers["cache"].Resources.Limits.ContainsKey("cpu"));

        // Kafka keeps its logs below the volume's root, where a fresh volume's lost+found cannot stop it.
        Assert.Equal("/var/lib/kafka/data/logs", containers["kafka"].Env.Single(e => e.Name == "KAFKA_LOG_DIRS").Value);
        Assert.Equal("tcp", containers["kafka"].ReadinessProbe.TcpSocket.Port.Value);

        // Each StatefulSet is governed by a headless Service; clients keep the ClusterIP one their connection strings name.
        foreach (var server in new[] { "cache", "kafka", "postgres" })
        {
            var manifest = LoadAll($"{server}.yaml");
            var statefulSet = manifest.OfType<V1StatefulSet>().Single();
            var services = manifest.OfType<V1Service>().ToDictionary(s => s.Metadata.Name);
            Assert.Equal("None", services[statefulSet.Spec.ServiceName].Spec.ClusterIP);
            Assert.Equal("ClusterIP", services[server].Spec.Type);
            Assert.Null(services[server].Spec.ClusterIP);
            Assert.Equal(services[server].Spec.Ports.Single().Port, services[statefulSet.Spec.ServiceName].Spec.Ports.Single().Port);
        }
    }

    /// <summary>
    /// The published Redis runs its start script (with /bin/sh here, and a real redis-server on a free port behind a
    /// stand-in that records its arguments, since redis-server soon overwrites its own): the password, even one with a
    /// quote and a backslash, is in the config file and on no command line, and the readiness probe's
    /// <c>redis-cli</c> signs in with it from the environment.
    /// </summary>
    [Fact]
    public async Task The_redis_password_stays_off_the_command_line_and_the_readiness_probe_signs_in_with_it()
    {
        var builder = TestApp.Create(output, "--publisher", "kubernetes", "--output-path", _output, "--Parameters:cache-password=pa\"ss\\word 1");
        builder.AddRedis("cache");
        await using var app = await builder.BuildAsync();
        await app.PublishAsync();

        var container = Load<V1StatefulSet>("cache.yaml").Spec.Template.Spec.Containers.Single();
        Assert.Equal(("app-secrets", "cache-password"), (container.Env.Single(e => e.Name == "REDISCLI_AUTH").ValueFrom.SecretKeyRef.Name, container.Env.Single(e => e.Name == "REDISCLI_AUTH").ValueFrom.SecretKeyRef.Key));
        Assert.Null(container.Args);
        Assert.All(container.Command, argument => Assert.DoesNotContain("$(", argument, StringComparison.Ordinal));
        var probe = container.ReadinessProbe.Exec.Command;
        Assert.Equal(["/bin/sh", "-c", "redis-cli ping | grep -qx PONG"], probe);

        const string password = "pa\"ss\\word 1";
        var port = PortAllocator.AllocateFreePort();
        var directory = Directory.CreateDirectory(Path.Combine(_output, "redis")).FullName;
        var arguments = Path.Combine(_output, "redis-arguments.txt");
        var standIn = Path.Combine(_output, "redis-server");
        await File.WriteAllTextAsync(standIn, $"""
            #!/bin/sh
            printf '%s\n' "$@" > "{arguments}"
            exec redis-server "$@" --port {port} --dir "{directory}" --save ''
            """);
        File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var script = container.Command[^1]
            .Replace("exec redis-server ", $"exec {standIn} ", StringComparison.Ordinal)
            .Replace("/run/redis", directory, StringComparison.Ordinal);
        using var server = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", script },
            Environment = { ["REDISCLI_AUTH"] = password },
        })!;
        try
        {
            var ping = probe[^1].Replace("redis-cli", $"redis-cli -p {port}", StringComparison.Ordinal);
            var cancellation = TestApp.Timeout(30);
            while (await ProbeAsync(ping, password) != 0)
            {
                Assert.False(server.HasExited, "redis-server ended");
                await Task.Delay(100, cancellation);
            }

            Assert.NotEqual(0, await ProbeAsync(ping, "wrong"));
            Assert.Equal([Path.Combine(directory, "redis.conf")], await File.ReadAllLinesAsync(arguments));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "redis.conf")));
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task An_existing_service_is_not_deployed_and_its_url_reaches_the_services_that_reference_it()
    {
        var builder = TestApp.Create(
            output,
            "--publisher", "kubernetes", "--output-path", _output, "--Publishing:ImageTag=1.2.3",
            "--Publishing:ExistingServices:card-gateway=http://card-adapter.payments:8080");
        var cards = builder.AddProject<Projects.EnvironmentReporter>("card-gateway");
        builder.AddProject<Projects.EnvironmentReporter>("payment").WithReference(cards);
        await using var app = await builder.BuildAsync();
        var files = await app.PublishAsync();

        Assert.DoesNotContain("card-gateway.yaml", files);
        var env = Load<V1Deployment>("payment.yaml").Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal("http://card-adapter.payments:8080", env["services__card-gateway__http__0"].Value);
    }

    [Fact]
    public async Task An_existing_service_of_another_scheme_than_its_callers_ask_for_is_refused()
    {
        var builder = TestApp.Create(
            output,
            "--publisher", "kubernetes", "--output-path", _output, "--Publishing:ImageTag=1.2.3",
            "--Publishing:ExistingServices:card-gateway=https://cards.example");
        var cards = builder.AddProject<Projects.EnvironmentReporter>("card-gateway");
        builder.AddProject<Projects.EnvironmentReporter>("payment").WithReference(cards);
        await using var app = await builder.BuildAsync();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.PublishAsync());

        Assert.Contains("must be an http address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_publisher_is_named_in_a_clear_error()
    {
        var builder = TestApp.Create(output, "--publisher", "helm", "--output-path", _output);
        builder.AddRedis("cache");
        await using var app = await builder.BuildAsync();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.PublishAsync());

        Assert.Contains("Unknown publisher 'helm'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_output_path_that_cannot_be_written_is_named_in_a_clear_error()
    {
        var file = Path.Combine(_output, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");
        var builder = TestApp.Create(output, "--publisher", "kubernetes", "--output-path", Path.Combine(file, "manifests"));
        builder.AddRedis("cache");
        await using var app = await builder.BuildAsync();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.PublishAsync());

        Assert.StartsWith($"The manifests cannot be written to --output-path {file}/manifests: ", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);

    /// <summary>
    /// Runs the ACL Job's script with /bin/sh against a stand-in for <c>kafka-acls.sh</c> that refuses its first call
    /// (the broker not up yet): the script waits, then makes every grant, signed in as the admin with the password from
    /// its environment.
    /// </summary>
    private async Task RunAclScriptAsync(string script)
    {
        var calls = Path.Combine(_output, "acl-calls.txt");
        var standIn = Path.Combine(_output, "kafka-acls.sh");
        await File.WriteAllTextAsync(standIn, $$"""
            #!/bin/sh
            [ -f "{{calls}}" ] || { : > "{{calls}}"; echo 'broker not available' >&2; exit 1; }
            echo "$*" >> "{{calls}}"
            """);
        File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var properties = Path.Combine(_output, "admin.properties");
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList =
            {
                "-c",
                script.Replace("/opt/kafka/bin/kafka-acls.sh", standIn, StringComparison.Ordinal)
                    .Replace("/tmp/admin.properties", properties, StringComparison.Ordinal)
                    .Replace("sleep 5", "sleep 0", StringComparison.Ordinal),
            },
            Environment = { ["PARAMETER_KAFKA_ADMIN_PASSWORD"] = "admin-secret" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var shell = System.Diagnostics.Process.Start(start)!;
        await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine(await shell.StandardOutput.ReadToEndAsync() + await shell.StandardError.ReadToEndAsync());

        Assert.Equal(0, shell.ExitCode);
        Assert.Contains("required username=\"admin\" password=\"admin-secret\";", await File.ReadAllTextAsync(properties), StringComparison.Ordinal);
        var grants = (await File.ReadAllLinesAsync(calls)).Select(call => call[call.IndexOf("--allow-principal", StringComparison.Ordinal)..]).ToList();
        Assert.Equal(5, grants.Count);
        Assert.Equal("--allow-principal User:* --operation Read --operation Describe --topic *", grants[0]);
        Assert.Equal("--allow-principal User:api --operation Write --resource-pattern-type prefixed --topic api.audit.", grants[^1]);
        Assert.All(await File.ReadAllLinesAsync(calls), call => Assert.StartsWith($"--bootstrap-server kafka:9092 --command-config {properties} --add ", call, StringComparison.Ordinal));
    }

    private static async Task<int> ProbeAsync(string command, string password)
    {
        using var probe = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", command },
            Environment = { ["REDISCLI_AUTH"] = password },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await probe.WaitForExitAsync();
        return probe.ExitCode;
    }

    private T Load<T>(string file) => LoadAll(file).OfType<T>().Single();

    private List<object> LoadAll(string file) => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(_output, file)));

    private Dictionary<string, string> ReadEnvFile(string file) =>
        File.ReadAllLines(Path.Combine(_output, file))
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);
}
