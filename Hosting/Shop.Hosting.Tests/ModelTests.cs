using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Orchestration;
using Shop.Hosting.Testing;

namespace Shop.Hosting.Tests;

/// <summary>The app model on its own: names, validation, dependency order, cycles. Nothing is started.</summary>
public sealed class ModelTests
{
    [Theory]
    [InlineData("1postgres")]
    [InlineData("post_gres")]
    [InlineData("post--gres")]
    [InlineData("postgres-")]
    [InlineData("")]
    public void Invalid_resource_names_are_refused_with_the_rule(string name)
    {
        var builder = DistributedApplicationTestingBuilder.Create();

        var error = Assert.ThrowsAny<ArgumentException>(() => builder.AddRedis(name));

        Assert.True(name.Length == 0 || error.Message.Contains("letters, digits and single hyphens", StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void Duplicate_resource_names_are_refused_whatever_their_case()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddRedis("cache");

        var error = Assert.Throws<DistributedApplicationException>(() => builder.AddPostgres("Cache"));

        Assert.Contains("already used", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_WaitFor_cycle_is_reported_with_its_path()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var a = builder.AddExecutable("a", "true", ".");
        var b = builder.AddExecutable("b", "true", ".");
        var c = builder.AddExecutable("c", "true", ".");
        a.WaitFor(b);
        b.WaitFor(c);
        c.WaitFor(a);

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => builder.BuildAsync());

        Assert.Contains("WaitFor cycle: a → b → c → a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Builder_methods_validate_their_arguments()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var app = builder.AddExecutable("app", "true", ".");
        IResourceBuilder<ExecutableResource>? missing = null;

        Assert.Throws<ArgumentNullException>(() => missing!.WithEnvironment("A", "b"));
        Assert.Throws<ArgumentException>(() => app.WithEnvironment(" ", "b"));
        Assert.Throws<ArgumentNullException>(() => app.WaitFor(null!));
        Assert.Throws<ArgumentException>(() => app.WaitFor(app));
        var noReplicas = Assert.Throws<ArgumentOutOfRangeException>(() => app.WithReplicas(0));
        Assert.StartsWith("Resource 'app' can run 1 to 64 replicas, not 0.", noReplicas.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => app.WithReplicas(65));
        Assert.Throws<ArgumentOutOfRangeException>(() => app.WithHttpEndpoint(port: 70000));
        Assert.Throws<ArgumentException>(() => app.WithHttpHealthCheck("health"));
        Assert.Throws<ArgumentException>(() => builder.AddPostgres("pg").AddDatabase("db", "drop table"));
        Assert.Throws<ArgumentException>(() => app.WaitFor(builder.AddParameter("setting", "value")));
        Assert.Throws<ArgumentNullException>(() => builder.AddExecutable("other", "true", ".", null!));
    }

    [Theory]
    [InlineData("--AppHost:ResourceStopTimeoutSeconds=abc", "AppHost:ResourceStopTimeoutSeconds is 'abc', which is not a number.")]
    [InlineData("--AppHost:ResourceStopTimeoutSeconds=-1", "AppHost:ResourceStopTimeoutSeconds is -1: it must be a number of seconds above 0 and at most 86400.")]
    [InlineData("--AppHost:ResourceStopTimeoutSeconds=0", "AppHost:ResourceStopTimeoutSeconds is 0: it must be a number of seconds above 0 and at most 86400.")]
    [InlineData("--AppHost:RandomizePorts=yes", "AppHost:RandomizePorts is 'yes', which is not true or false.")]
    public async Task A_setting_with_a_value_it_cannot_take_fails_the_build_naming_the_setting(string argument, string message)
    {
        var builder = DistributedApplicationTestingBuilder.Create(argument);
        builder.AddExecutable("app", "true", ".");

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => builder.BuildAsync());
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("count", "abc", "Parameters:count is 'abc', which is not a whole number from 1 to 100.")]
    [InlineData("count", "101", "Parameters:count is '101', which is not a whole number from 1 to 100.")]
    [InlineData("rate", "1.5", "Parameters:rate is '1.5', which is not a number from 0 to 1.")]
    [InlineData("switch", "yes", "Parameters:switch is 'yes', which is not true or false.")]
    [InlineData("lifetime", "15 minutes", "Parameters:lifetime is '15 minutes', which is not a positive duration (hh:mm:ss).")]
    [InlineData("lifetime", "-00:01:00", "Parameters:lifetime is '-00:01:00', which is not a positive duration (hh:mm:ss).")]
    [InlineData("key", "short", "Parameters:key is not at least 8 characters long.")]
    public async Task A_parameter_value_its_resources_cannot_take_fails_the_build_naming_the_parameter(string name, string value, string message)
    {
        var builder = DistributedApplicationTestingBuilder.Create($"--Parameters:{name}={value}");
        builder.AddExecutable("app", "true", ".")
            .WithEnvironment("COUNT", builder.AddParameter("count", "5").AsWholeNumber(1, 100))
            .WithEnvironment("RATE", builder.AddParameter("rate", "0.5").AsNumber(0, 1))
            .WithEnvironment("SWITCH", builder.AddParameter("switch", "true").AsBoolean())
            .WithEnvironment("LIFETIME", builder.AddParameter("lifetime", "00:15:00").AsDuration())
            // A secret's value is never in the message.
            .WithEnvironment("KEY", builder.AddParameter("key", "long enough", secret: true).WithValidation(v => v.Length >= 8, "at least 8 characters long"));

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => builder.BuildAsync());
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Parameter_values_of_the_kind_asked_for_build_as_given()
    {
        var builder = DistributedApplicationTestingBuilder.Create("--Parameters:count=100", "--Parameters:rate=0", "--Parameters:switch=False", "--Parameters:lifetime=1.00:00:00");
        var count = builder.AddParameter("count", "5").AsWholeNumber(1, 100);
        var rate = builder.AddParameter("rate", "0.5").AsNumber(0, 1);
        var toggle = builder.AddParameter("switch", "true").AsBoolean();
        var lifetime = builder.AddParameter("lifetime", "00:15:00").AsDuration();
        builder.AddExecutable("app", "true", ".")
            .WithEnvironment("COUNT", count).WithEnvironment("RATE", rate).WithEnvironment("SWITCH", toggle).WithEnvironment("LIFETIME", lifetime);

        await using var app = await builder.BuildAsync();

        Assert.Equal(["100", "0", "False", "1.00:00:00"], [count.Resource.Value, rate.Resource.Value, toggle.Resource.Value, lifetime.Resource.Value]);
    }

    [Theory]
    [InlineData("--AppHost:Dashboard:Port=99999", "AppHost:Dashboard:Port is 99999, which is not a port (1 to 65535).")]
    [InlineData("--AppHost:Dashboard:OtlpGrpcPort=http", "AppHost:Dashboard:OtlpGrpcPort is 'http', which is not a whole number.")]
    [InlineData("--AppHost:Dashboard:Unsecured=yes", "AppHost:Dashboard:Unsecured is 'yes', which is not true or false.")]
    [InlineData("--AppHost:Dashboard:PersistTelemetry=1", "AppHost:Dashboard:PersistTelemetry is '1', which is not true or false.")]
    public async Task A_dashboard_setting_it_cannot_take_fails_the_build_naming_the_setting(string argument, string message)
    {
        var builder = DistributedApplicationTestingBuilder.Create("--AppHost:DisableDashboard=false", argument);
        builder.AddExecutable("app", "true", ".");

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => builder.BuildAsync());
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("abc", "Replicas:app is 'abc', which is not a whole number.")]
    [InlineData("0", "Replicas:app is 0: 'app' can run 1 to 64 replicas.")]
    [InlineData("65", "Replicas:app is 65: 'app' can run 1 to 64 replicas.")]
    public void A_replica_count_from_configuration_it_cannot_take_is_an_error_naming_the_setting(string value, string message)
    {
        var builder = DistributedApplicationTestingBuilder.Create($"--Replicas:app={value}");
        var app = builder.AddExecutable("app", "true", ".").WithHttpEndpoint();

        var error = Assert.Throws<DistributedApplicationException>(() => app.WithConfiguredReplicas());
        Assert.Equal(message, error.Message);
        Assert.Equal(3, builder.AddExecutable("other", "true", ".").WithConfiguredReplicas(defaultReplicas: 3).Resource.ReplicaCount());
    }

    [Fact]
    public void Stop_order_puts_every_resource_after_what_depends_on_it()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var postgres = builder.AddPostgres("postgres");
        var database = postgres.AddDatabase("db");
        var cache = builder.AddRedis("cache");
        var api = builder.AddExecutable("api", "true", ".").WithReference(database).WithReference(cache).WaitFor(database);
        var web = builder.AddExecutable("web", "true", ".").WithReference(api.GetEndpoint("http"));
        api.WithHttpEndpoint();

        var waves = DependencyGraph.StopWaves([.. builder.Resources]);
        int WaveOf(IResourceBuilder<IResource> resource) => StopWaveOf(waves, resource);

        Assert.True(WaveOf(web) < WaveOf(api));
        Assert.True(WaveOf(api) < WaveOf(database));
        Assert.True(WaveOf(api) < WaveOf(cache));
        Assert.True(WaveOf(database) < WaveOf(postgres));
    }

    [Fact]
    public void Stop_order_follows_waits_and_references_when_services_pass_each_other_their_urls()
    {
        // Shop's shape: the storefront and the gateway know each other's URL (CORS), and the services get the
        // gateway's URL as their token issuer, so the references run in circles.
        var builder = DistributedApplicationTestingBuilder.Create();
        var postgres = builder.AddPostgres("postgres");
        var database = postgres.AddDatabase("db");
        var api = builder.AddExecutable("api", "true", ".").WithHttpEndpoint().WithReference(database).WaitFor(database);
        var gateway = builder.AddExecutable("gateway", "true", ".").WithHttpEndpoint().WithReference(api);
        var web = builder.AddExecutable("web", "true", ".").WithHttpEndpoint().WithReference(gateway).WaitFor(gateway);
        gateway.WithEnvironment("Cors__Origin", web.GetEndpoint("http"));
        api.WithEnvironment("Issuer", gateway.GetEndpoint("http"));

        var waves = DependencyGraph.StopWaves([.. builder.Resources]);
        int WaveOf(IResourceBuilder<IResource> resource) => StopWaveOf(waves, resource);

        Assert.True(WaveOf(web) < WaveOf(gateway));
        Assert.True(WaveOf(gateway) < WaveOf(api));
        Assert.True(WaveOf(api) < WaveOf(database));
        Assert.True(WaveOf(database) < WaveOf(postgres));
        Assert.Contains("web", DependencyGraph.DependenciesOf(gateway.Resource).Select(r => r.Name));
    }

    [Fact]
    public async Task Environment_holds_connection_strings_one_service_url_per_replica_and_the_otel_variables()
    {
        var builder = DistributedApplicationTestingBuilder.Create($"--{DashboardConfigNames.OtlpGrpcEndpointUrl}=http://localhost:4317", "--AppHost:OtlpApiKey=k3y");
        var database = builder.AddPostgres("postgres").AddDatabase("ordersdb");
        var products = builder.AddExecutable("products", "true", ".").WithHttpEndpoint().WithReplicas(2);
        var ordering = builder.AddExecutable("ordering", "true", ".").WithReference(database).WithReference(products).WithEnvironment("FEATURE", "on");
        Allocate(builder.Resources.OfType<IResourceWithEndpoints>(), firstPort: 40000);

        var environment = await EnvironmentBuilder.BuildAsync(ordering.Resource, 0, builder.ExecutionContext, CancellationToken.None);

        Assert.Equal("http://localhost:40001", environment["services__products__http__0"]);
        Assert.Equal("http://localhost:40002", environment["services__products__http__1"]);
        Assert.Matches("^Host=127.0.0.1;Port=40000;Username=postgres;Password=[A-Za-z0-9]{24};Database=ordersdb$", environment["ConnectionStrings__ordersdb"]);
        Assert.Equal("on", environment["FEATURE"]);
        Assert.Equal("ordering", environment["OTEL_SERVICE_NAME"]);
        Assert.Equal("service.instance.id=ordering", environment["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("http://localhost:4317", environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("grpc", environment["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("x-otlp-api-key=k3y", environment["OTEL_EXPORTER_OTLP_HEADERS"]);
        Assert.Equal("1000", environment["OTEL_BSP_SCHEDULE_DELAY"]);
        Assert.Equal("simple", environment["LOGGING__CONSOLE__FORMATTERNAME"]);
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("services__postgres", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Simulator__AdminKey", true)]
    [InlineData("PaymentGateway__ApiKey", true)]
    [InlineData("REDIS_PASSWORD", true)]
    [InlineData("Identity__Clients__web__ClientSecret", true)]
    [InlineData("Identity__AccessToken", true)]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", true)]
    [InlineData("ConnectionStrings__cache", true)]
    [InlineData("Identity__AccessTokenLifetime", false)]
    [InlineData("Identity__RefreshTokenLifetime", false)]
    [InlineData("Identity__ClientId", false)]
    [InlineData("ASPNETCORE_URLS", false)]
    public void A_value_of_unknown_origin_is_judged_secret_by_the_last_part_of_its_name(string name, bool secret) =>
        Assert.Equal(secret, SecretNames.IsSecret(name));

    [Fact]
    public async Task Without_a_dashboard_no_otlp_endpoint_is_given()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var app = builder.AddExecutable("app", "true", ".");

        var environment = await EnvironmentBuilder.BuildAsync(app.Resource, 0, builder.ExecutionContext, CancellationToken.None);

        Assert.DoesNotContain("OTEL_EXPORTER_OTLP_ENDPOINT", environment.Keys);
        Assert.Equal("app", environment["OTEL_SERVICE_NAME"]);
    }

    [Fact]
    public async Task A_missing_parameter_names_the_configuration_key_to_set()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var parameter = builder.AddParameter("gateway-secret-header");

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(async () => await parameter.Resource.GetValueAsync());

        Assert.Contains("Parameters:gateway-secret-header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_secret_parameter_is_generated_once()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var parameter = builder.AddParameter("api-key", secret: true);

        var first = await parameter.Resource.GetValueAsync();
        var second = await parameter.Resource.GetValueAsync();

        Assert.Matches("^[A-Za-z0-9]{24}$", first);
        Assert.Equal(first, second);
        Assert.Equal(first, builder.Configuration["Parameters:api-key"]);
    }

    [Fact]
    public void A_generated_secret_is_stored_once_and_never_replaced()
    {
        var directory = Directory.CreateTempSubdirectory("usersecrets-");
        try
        {
            var path = Path.Combine(directory.FullName, "secrets.json");
            File.WriteAllText(path, """{ "Parameters:other": "kept" }""");
            var created = 0;

            var first = UserSecretsStore.GetOrAdd(path, "Parameters:api-key", () => $"value-{++created}");
            var second = UserSecretsStore.GetOrAdd(path, "Parameters:api-key", () => $"value-{++created}");

            Assert.Equal(("value-1", "value-1", 1), (first, second, created));
            var stored = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
            Assert.Equal("value-1", (string?)stored["Parameters:api-key"]);
            Assert.Equal("kept", (string?)stored["Parameters:other"]);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_port_allocator_hands_out_distinct_free_ports_and_sees_taken_ones()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => PortAllocator.AllocateFreePort()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.True(PortAllocator.IsFree(port)));

        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        Assert.False(PortAllocator.IsFree(((System.Net.IPEndPoint)listener.LocalEndpoint).Port));
    }

    [Fact]
    public void A_failed_start_shows_the_crash_message_above_a_stack_trace_that_fills_the_last_lines()
    {
        string[] output = ["starting", "Unhandled exception. System.IO.IOException: Failed to bind to address http://127.0.0.1:20001: address already in use.",
            .. Enumerable.Range(1, 30).Select(i => $"   at Frame{i}()")];

        var shown = ConsoleReporter.OutputToShowOnFailure(output);

        Assert.Equal(output[1], shown[0]);
        Assert.Equal(output.TakeLast(20), shown.Skip(2));
        Assert.Equal(output.TakeLast(5), ConsoleReporter.OutputToShowOnFailure(output.TakeLast(5).ToList()));
    }

    [Fact]
    public void A_failed_start_in_the_terminal_repeats_its_output_only_when_other_lines_came_in_between()
    {
        var logs = new ResourceLoggerService(TimeProvider.System);
        var reporter = new ConsoleReporter(
            new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run),
            new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(),
            logs,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var hint = $"HINT:  Is another postmaster (PID {Guid.NewGuid():N}) running in data directory?";
        var original = Console.Out;
        using var terminal = new StringWriter();
        Console.SetOut(terminal);
        try
        {
            Fail("postgres", hint);
            Fail("cache", hint + " cache", interruption: "another resource's line");
        }
        finally
        {
            Console.SetOut(original);
        }

        var printed = terminal.ToString().Split('\n');
        Assert.Single(printed, l => l.EndsWith(hint, StringComparison.Ordinal));
        Assert.Equal(2, printed.Count(l => l.EndsWith(hint + " cache", StringComparison.Ordinal)));

        void Fail(string resourceId, string line, string? interruption = null)
        {
            logs.Append(resourceId, line, isStdErr: true);
            reporter.ResourceOutput(resourceId, line, isStdErr: true);
            if (interruption is not null)
            {
                reporter.ResourceOutput("other", interruption, isStdErr: false);
            }

            var running = new CustomResourceSnapshot { ResourceType = "Executable", State = KnownResourceStates.Running };
            reporter.Progress(
                new ResourceEvent(new ExecutableResource(resourceId, "true", "."), resourceId, running with { State = KnownResourceStates.FailedToStart, StateDescription = "exited" }),
                running);
        }
    }

    [Fact]
    public void Allocated_ports_lie_below_the_range_outgoing_connections_take_their_ports_from()
    {
        var (low, high) = PortAllocator.Ephemeral;
        var ports = Enumerable.Range(0, 20).Select(_ => PortAllocator.AllocateFreePort()).ToList();

        if (low >= 21_000)
        {
            Assert.All(ports, port => Assert.InRange(port, 20_000, low - 1));
        }
        else
        {
            // Nothing left below the range (an unusual kernel setting): the kernel's own choice, checked free.
            Assert.All(ports, port => Assert.InRange(port, low, high));
        }
    }

    [Fact]
    public void A_port_another_process_has_reserved_is_not_handed_out()
    {
        var port = PortAllocator.AllocateFreePort();
        var reservation = Path.Combine(Path.GetTempPath(), "shop-hosting-ports", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // The reservation is an exclusive lock held for the life of this process: another process cannot take it.
        using var other = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("flock", ["--nonblock", reservation, "true"]))!;
        other.WaitForExit();

        Assert.NotEqual(0, other.ExitCode);
    }

    [Fact]
    public void A_project_takes_its_http_port_and_variables_from_its_launch_profile()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var reporter = builder.AddProject<Projects.EnvironmentReporter>("reporter");

        var http = reporter.Resource.AnnotationsOf<EndpointAnnotation>().Single();
        Assert.Equal(5199, http.DefaultPort);
        Assert.Null(http.Port);
        Assert.EndsWith("EnvironmentReporter.csproj", reporter.Resource.Metadata.ProjectPath, StringComparison.Ordinal);
        Assert.EndsWith("EnvironmentReporter.dll", reporter.Resource.Metadata.TargetPath, StringComparison.Ordinal);
    }

    /// <summary>The index of the stop wave <paramref name="resource"/> is in.</summary>
    private static int StopWaveOf(IReadOnlyList<IReadOnlyList<IResource>> waves, IResourceBuilder<IResource> resource) =>
        waves.Select((wave, i) => (wave, i)).Single(w => w.wave.Contains(resource.Resource)).i;

    private static void Allocate(IEnumerable<IResourceWithEndpoints> resources, int firstPort)
    {
        var port = firstPort;
        foreach (var resource in resources)
        {
            foreach (var endpoint in resource.AnnotationsOf<EndpointAnnotation>())
            {
                for (var replica = 0; replica < resource.ReplicaCount(); replica++)
                {
                    endpoint.Allocated.Add(new AllocatedEndpoint(endpoint.UriScheme == "tcp" ? "127.0.0.1" : "localhost", port++, endpoint.UriScheme));
                }
            }
        }
    }
}
