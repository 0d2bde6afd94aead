using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>Real PostgreSQL, Redis and project processes started through the testing builder.</summary>
public sealed class HostingIntegrationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_project_receives_exactly_the_variables_Aspire_would_give_it()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output, $"--{DashboardConfigNames.OtlpGrpcEndpointUrl}=http://localhost:4317", "--AppHost:OtlpApiKey=test-key");
        var database = builder.AddPostgres("postgres").AddDatabase("appdb");
        var cache = builder.AddRedis("cache");
        var api = builder.AddProject<Projects.EnvironmentReporter>("api").WithReplicas(2).WithHttpHealthCheck("/health");
        builder.AddProject<Projects.EnvironmentReporter>("client")
            .WithReference(database).WaitFor(database)
            .WithReference(cache)
            .WithReference(api)
            .WithHttpHealthCheck("/health");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("client", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", ct);

        using var http = app.CreateHttpClient("client");
        var environment = await http.GetFromJsonAsync<Dictionary<string, string?>>("/env", ct) ?? [];
        string[] contractPrefixes = ["ConnectionStrings__", "services__", "OTEL_", "ASPNETCORE_", "LOGGING__", "DOTNET_SYSTEM_CONSOLE"];
        var contract = environment.Where(e => contractPrefixes.Any(p => e.Key.StartsWith(p, StringComparison.Ordinal)))
            .ToDictionary(e => e.Key, e => e.Value);

        var apiUrls = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "api")
            .AnnotationsOf<EndpointAnnotation>().Single().Allocated.Select(a => a.Url).ToList();
        var expected = new Dictionary<string, string?>
        {
            ["ConnectionStrings__appdb"] = await app.GetConnectionStringAsync("appdb", ct),
            ["ConnectionStrings__cache"] = await app.GetConnectionStringAsync("cache", ct),
            ["services__api__http__0"] = apiUrls[0],
            ["services__api__http__1"] = apiUrls[1],
            ["ASPNETCORE_URLS"] = app.GetEndpoint("client").ToString().TrimEnd('/'),
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true",
            ["OTEL_SERVICE_NAME"] = "client",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=client",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://localhost:4317",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-otlp-api-key=test-key",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_TRACES_SAMPLER"] = "always_on",
            ["LOGGING__CONSOLE__FORMATTERNAME"] = "simple",
            ["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true",
        };
        Assert.Equal(expected.OrderBy(e => e.Key), contract.OrderBy(e => e.Key));
        Assert.Equal("yes", environment["REPORTER_FROM_LAUNCH_PROFILE"]);

        // What was handed over works: the database accepts the connection string, every replica answers.
        await using (var connection = new NpgsqlConnection(expected["ConnectionStrings__appdb"]))
        {
            await connection.OpenAsync(ct);
        }

        foreach (var url in apiUrls)
        {
            using var replica = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await replica.GetAsync(url + "/health", ct)).StatusCode);
        }
    }

    [Fact]
    public async Task The_dashboard_masks_a_variable_when_its_value_comes_from_a_secret_and_only_then()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        var adminKey = builder.AddParameter("admin-key", secret: true);
        var tokenLifetime = builder.AddParameter("access-token-lifetime", "00:15:00");
        var cache = builder.AddRedis("cache");
        var upstream = builder.AddExecutable("upstream", "sleep", ".", "60").WithHttpEndpoint();
        builder.AddExecutable("app", "sleep", ".", "60")
            .WithReference(cache)
            .WithEnvironment("Simulator__AdminKey", adminKey)
            .WithEnvironment("Signing__Header", ReferenceExpression.Create($"x-admin={adminKey}"))
            .WithEnvironment("Identity__AccessTokenLifetime", tokenLifetime)
            .WithEnvironment("Upstream__Url", upstream.GetEndpoint("http"))
            .WithEnvironment("Identity__ClientSecret", "typed-in-the-app-host")
            .WithEnvironment("Identity__ClientId", "web");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        var running = await app.ResourceNotifications.WaitForResourceAsync("app", KnownResourceStates.Running, ct);
        var secret = running.Snapshot.EnvironmentVariables.ToDictionary(e => e.Name, e => e.IsSecret);
        // From a secret parameter, whatever the variable is called, and a value that contains one (a generated password).
        Assert.True(secret["Simulator__AdminKey"]);
        Assert.True(secret["Signing__Header"]);
        Assert.True(secret["ConnectionStrings__cache"]);
        // From a plain parameter or an endpoint, whatever the variable is called.
        Assert.False(secret["Identity__AccessTokenLifetime"]);
        Assert.False(secret["Upstream__Url"]);
        // Literals have no known source: their names decide.
        Assert.True(secret["Identity__ClientSecret"]);
        Assert.False(secret["Identity__ClientId"]);
    }

    [Fact]
    public async Task PostgreSQL_settings_in_the_AppHosts_own_environment_do_not_reach_the_server_it_runs()
    {
        // A developer's shell may export PGPORT or PGDATA for psql; PostgreSQL's programs refuse to start on a bad one.
        var dataDirectory = CreatePostgresDataDirectory("shop-pgenv-");
        Environment.SetEnvironmentVariable("PGPORT", "not-a-port");
        Environment.SetEnvironmentVariable("PGDATA", "/nonexistent");
        try
        {
            // First run: initdb and the server; second run: the password is reset in single-user mode first.
            await RunPostgresAsync(dataDirectory, persistent: true, "CREATE TABLE notes(text text); INSERT INTO notes VALUES ('kept')");
            Assert.Equal("kept", await RunPostgresAsync(dataDirectory, persistent: true, "SELECT text FROM notes"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PGPORT", null);
            Environment.SetEnvironmentVariable("PGDATA", null);
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_kept_cluster_takes_a_changed_password_and_keeps_an_unchanged_one_without_resetting_it()
    {
        var dataDirectory = CreatePostgresDataDirectory("shop-password-");
        // Each reset stores a new SCRAM verifier (a fresh salt), so an unchanged verifier shows the reset was skipped.
        const string verifierQuery = "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'";
        string[] first = ["--Parameters:postgres-password=first-Password-1"];
        string[] second = ["--Parameters:postgres-password=second-Password-2"];
        try
        {
            var made = await RunPostgresAsync(dataDirectory, persistent: true, verifierQuery, null, first);
            Assert.Equal(made, await RunPostgresAsync(dataDirectory, persistent: true, verifierQuery, null, first));

            // The connection string carries the new password: the query runs only if the server took it.
            var changed = await RunPostgresAsync(dataDirectory, persistent: true, verifierQuery, null, second);
            Assert.NotEqual(made, changed);
            Assert.Equal(changed, await RunPostgresAsync(dataDirectory, persistent: true, verifierQuery, null, second));

            // A stamp that does not match (a data directory from elsewhere, say) is reset as before.
            var stamp = Path.Combine(dataDirectory, "postgres", "pgdata", "shop-password.stamp");
            await File.WriteAllTextAsync(stamp, "v1:00:00\n");
            Assert.NotEqual(changed, await RunPostgresAsync(dataDirectory, persistent: true, verifierQuery, null, second));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Postgres_data_survives_a_restart_with_a_data_volume_and_not_without()
    {
        var dataDirectory = CreatePostgresDataDirectory("shop-volumes-");
        try
        {
            await RunPostgresAsync(dataDirectory, persistent: true, "CREATE TABLE notes(text text); INSERT INTO notes VALUES ('kept')");
            Assert.Equal("kept", await RunPostgresAsync(dataDirectory, persistent: true, "SELECT text FROM notes"));

            await RunPostgresAsync(dataDirectory, persistent: false, "CREATE TABLE notes(text text); INSERT INTO notes VALUES ('lost')");
            var error = await Assert.ThrowsAsync<PostgresException>(() => RunPostgresAsync(dataDirectory, persistent: false, "SELECT text FROM notes"));
            Assert.Equal(PostgresErrorCodes.UndefinedTable, error.SqlState);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task New_clusters_are_copied_from_one_template_and_a_broken_template_is_replaced()
    {
        var dataDirectory = CreatePostgresDataDirectory("shop-volumes-");
        var templates = CreatePostgresDataDirectory("shop-templates-");
        const string identifierQuery = "SELECT system_identifier::text FROM pg_control_system()";
        try
        {
            // Clusters made by initdb each get their own system identifier; copies of one template share it.
            var first = await RunPostgresAsync(dataDirectory, persistent: false, identifierQuery, templates);
            var template = Assert.Single(Directory.GetDirectories(templates));
            Assert.True(File.Exists(Path.Combine(template, "pgdata", "PG_VERSION")));
            Assert.Equal(first, await RunPostgresAsync(dataDirectory, persistent: true, identifierQuery, templates));

            // Each copy was given its run's password: the connection strings above carried them. A broken template
            // is noticed, set aside, and the cluster made by initdb instead; the next run makes a new template.
            Directory.Delete(Path.Combine(template, "pgdata", "global"), recursive: true);
            var fallback = await RunPostgresAsync(dataDirectory, persistent: false, identifierQuery, templates);
            Assert.NotEqual(first, fallback);
            Assert.Empty(Directory.GetDirectories(templates));

            var remade = await RunPostgresAsync(dataDirectory, persistent: false, identifierQuery, templates);
            Assert.NotEqual(first, remade);
            Assert.Equal(remade, await RunPostgresAsync(dataDirectory, persistent: false, identifierQuery, templates));

            var initDb = await RunPostgresAsync(dataDirectory, persistent: false, identifierQuery, templates, "--AppHost:Postgres:TemplateCache=false");
            Assert.NotEqual(remade, initDb);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
            Directory.Delete(templates, recursive: true);
        }
    }

    [Theory]
    [InlineData("--AppHost:Postgres:TemplateCache=true")]
    [InlineData("--AppHost:Postgres:TemplateCache=false")]
    public async Task Clusters_sort_by_code_point_and_know_the_letters_of_every_script(string templateCache)
    {
        var dataDirectory = CreatePostgresDataDirectory("shop-locale-");
        var templates = CreatePostgresDataDirectory("shop-templates-");
        const string localeQuery =
            "SELECT current_setting('lc_collate') || ' ' || current_setting('lc_ctype') || ' ' || lower('Été ПАЛАТКА') || ' ' || to_tsvector('simple', '«Été»')::text";
        try
        {
            Assert.Equal(
                "C C.UTF-8 été палатка 'été':1",
                await RunPostgresAsync(dataDirectory, persistent: false, localeQuery, templates, templateCache));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
            Directory.Delete(templates, recursive: true);
        }
    }

    [Fact]
    public async Task Missing_server_binaries_say_what_to_install_while_the_rest_keeps_running()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output, "--AppHost:Postgres:BinDirectory=/nonexistent/bin", "--AppHost:Redis:ServerPath=/nonexistent/redis-server");
        builder.AddPostgres("postgres").AddDatabase("appdb");
        builder.AddRedis("cache");
        builder.AddProject<Projects.EnvironmentReporter>("api").WithHttpHealthCheck("/health");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        var postgres = await app.ResourceNotifications.WaitForResourceAsync("postgres", KnownResourceStates.FailedToStart, ct);
        Assert.Contains("sudo apt-get install postgresql", postgres.Snapshot.StateDescription, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:postgres", postgres.Snapshot.StateDescription, StringComparison.Ordinal);

        var cache = await app.ResourceNotifications.WaitForResourceAsync("cache", KnownResourceStates.FailedToStart, ct);
        Assert.Contains("sudo apt-get install redis-server", cache.Snapshot.StateDescription, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:cache", cache.Snapshot.StateDescription, StringComparison.Ordinal);

        var database = await app.ResourceNotifications.WaitForResourceAsync("appdb", KnownResourceStates.FailedToStart, ct);
        Assert.Contains("'postgres', which it waits for, failed to start", database.Snapshot.StateDescription, StringComparison.Ordinal);

        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", ct);
    }

    [Fact]
    public async Task A_port_in_use_is_reported_with_how_to_find_and_fix_it()
    {
        var ct = TestApp.Timeout();
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var builder = TestApp.Create(output);
        builder.AddProject<Projects.EnvironmentReporter>("web").WithHttpEndpoint(port: port);

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        var web = await app.ResourceNotifications.WaitForResourceAsync("web", KnownResourceStates.FailedToStart, ct);
        Assert.Contains($"port {port} of endpoint 'web/http' is already in use", web.Snapshot.StateDescription, StringComparison.Ordinal);
        Assert.Contains($"ss -ltnp 'sport = :{port}'", web.Snapshot.StateDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_process_that_dies_during_start_up_is_FailedToStart_with_its_last_output()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        builder.AddExecutable("broken", "sh", ".", "-c", "echo 'Unhandled exception: the configuration is wrong'; exit 3")
            .WithHttpEndpoint()
            .WithHttpHealthCheck("/health");
        builder.AddRedis("cache");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        var broken = await app.ResourceNotifications.WaitForResourceAsync("broken", KnownResourceStates.FailedToStart, ct);
        Assert.Equal(3, broken.Snapshot.ExitCode);
        Assert.Contains("exited with code 3 before it became healthy", broken.Snapshot.StateDescription, StringComparison.Ordinal);
        var logs = app.Services.GetRequiredService<ResourceLoggerService>().GetBacklog("broken");
        Assert.Contains(logs, l => l.Text.Contains("the configuration is wrong", StringComparison.Ordinal));
        await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", ct);
    }

    [Fact]
    public async Task A_killed_process_shows_Exited_and_a_restart_brings_it_back_to_Healthy()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        builder.AddProject<Projects.EnvironmentReporter>("api").WithHttpHealthCheck("/health");
        builder.AddRedis("cache");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        var before = await app.ResourceNotifications.WaitForResourceHealthyAsync("api", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", ct);

        Orchestration.PosixProcess.Signal(before.Snapshot.ProcessId!.Value, Orchestration.PosixProcess.SIGKILL);
        var exited = await app.ResourceNotifications.WaitForResourceAsync("api", KnownResourceStates.Exited, ct);
        Assert.Equal(128 + Orchestration.PosixProcess.SIGKILL, exited.Snapshot.ExitCode);

        await app.ResourceCommands.RestartAsync("api", ct);
        var after = await app.ResourceNotifications.WaitForResourceHealthyAsync("api", ct);
        Assert.NotEqual(before.Snapshot.ProcessId, after.Snapshot.ProcessId);
        Assert.True(app.ResourceNotifications.TryGetCurrentState("cache", out var cache));
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, cache.Snapshot.HealthStatus);
    }

    [Fact]
    public async Task Restarting_a_resource_with_replicas_restarts_one_at_a_time_so_one_always_serves()
    {
        var ct = TestApp.Timeout(120);
        var builder = TestApp.Create(output);
        builder.AddProject<Projects.EnvironmentReporter>("api").WithHttpHealthCheck("/health").WithReplicas(2);
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", ct);

        // Every state the replicas pass through, from their current ones on: how many were serving at the worst moment.
        var serving = new Dictionary<string, bool>();
        var restarted = new HashSet<string>();
        var fewest = int.MaxValue;
        // The wait above returns once a replica is healthy: the other may still be on its way.
        var bothServed = new TaskCompletionSource();
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in app.ResourceNotifications.WatchAsync(watching.Token))
                {
                    if (change.Resource.Name != "api")
                    {
                        continue;
                    }

                    serving[change.ResourceId] = change.Snapshot.State == KnownResourceStates.Running
                        && change.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy;
                    if (serving.Count == 2 && serving.Values.All(up => up))
                    {
                        bothServed.TrySetResult();
                    }

                    if (!bothServed.Task.IsCompleted)
                    {
                        continue;
                    }

                    if (!serving[change.ResourceId])
                    {
                        restarted.Add(change.ResourceId);
                    }

                    fewest = Math.Min(fewest, serving.Values.Count(up => up));
                }
            }
            catch (OperationCanceledException) when (watching.IsCancellationRequested)
            {
            }
        }, ct);

        await bothServed.Task.WaitAsync(ct);
        await app.ResourceCommands.RestartAsync("api", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("api", ct);
        await watching.CancelAsync();
        await watch;

        Assert.Equal(2, restarted.Count);
        Assert.Equal(1, fewest);
    }

    [Fact]
    public async Task A_stop_command_gives_the_process_the_configured_stop_timeout_before_killing_it()
    {
        // After SIGTERM the process needs 3 s to end: within the default 5 s, not within the 0.5 s configured here.
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output, "--AppHost:ResourceStopTimeoutSeconds=0.5");
        builder.AddExecutable("app", "sh", ".", "-c", "trap 'sleep 3; exit 0' TERM; echo trapped; while true; do sleep 1; done");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        Assert.True(await TestApp.EventuallyAsync(() => logs.GetBacklog("app").Any(l => l.Text == "trapped"), TimeSpan.FromSeconds(30)), "the process never set its trap");

        await app.ResourceCommands.StopAsync("app", ct);

        var stopped = await app.ResourceNotifications.WaitForResourceAsync("app", KnownResourceStates.Exited, ct);
        Assert.Equal(128 + Orchestration.PosixProcess.SIGKILL, stopped.Snapshot.ExitCode);
    }

    [Fact]
    public async Task Stopping_the_app_leaves_no_child_process_behind()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        builder.AddPostgres("postgres").AddDatabase("appdb");
        builder.AddRedis("cache");
        builder.AddProject<Projects.EnvironmentReporter>("api").WithHttpHealthCheck("/health");

        IReadOnlyList<int> processes;
        string sessionDirectory;
        await using (var app = await builder.BuildAsync(ct))
        {
            await app.StartAsync(ct);
            foreach (var name in new[] { "appdb", "cache", "api" })
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
            }

            // This app's processes: each resource's process and everything it started. (Other test classes run
            // apps of their own at the same time, so not every child of the test process is this app's.)
            var started = app.ResourceNotifications.GetCurrentSnapshots()
                .Where(e => e.Snapshot.ProcessId is not null)
                .Select(e => e.Snapshot.ProcessId!.Value)
                .ToList();
            var childrenOfTheTest = TestApp.DescendantsOf(Environment.ProcessId);
            processes = [.. started.SelectMany(pid => TestApp.DescendantsOf(pid).Prepend(pid)).Distinct()];
            Assert.All(started, pid => Assert.Contains(pid, childrenOfTheTest));
            Assert.Contains(app.ResourceNotifications.GetCurrentSnapshots(), e => e.ResourceId == "postgres" && processes.Contains(e.Snapshot.ProcessId!.Value));
            Assert.True(processes.Count > started.Count, "PostgreSQL's own processes (backends, checkpointer) are in the set");
            sessionDirectory = app.Services.GetRequiredService<Orchestration.DataDirectories>().SessionDirectory;
        }

        Assert.True(await TestApp.EventuallyAsync(() => !processes.Any(TestApp.IsAlive), TimeSpan.FromSeconds(5)),
            $"still running: {string.Join(", ", processes.Where(TestApp.IsAlive))}");
        Assert.False(Directory.Exists(sessionDirectory));
    }

    [Fact]
    public async Task A_stopped_database_refuses_connections_until_it_is_started_again()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        builder.AddPostgres("postgres").AddDatabase("appdb");
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("appdb", ct);
        var connectionString = await app.GetConnectionStringAsync("appdb", ct);
        await using var open = new NpgsqlConnection(connectionString);
        await open.OpenAsync(ct);

        await app.ResourceCommands.StopAsync("appdb", ct);
        Assert.True(app.ResourceNotifications.TryGetCurrentState("appdb", out var stopped));
        Assert.Equal(KnownResourceStates.Exited, stopped.Snapshot.State);
        await using (var refused = new NpgsqlConnection(connectionString))
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => refused.OpenAsync(ct));
            Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, error.SqlState);
        }

        // A connection that was open is ended too.
        await using (var query = new NpgsqlCommand("SELECT 1", open))
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => query.ExecuteScalarAsync(ct));
        }

        await app.ResourceCommands.StartAsync("appdb", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("appdb", ct);
        await using var again = new NpgsqlConnection(connectionString);
        await again.OpenAsync(ct);
    }

    [Fact]
    public async Task Stopping_the_app_while_a_resource_is_still_starting_stops_the_rest_and_removes_the_session()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        var initializing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Like a database being created when Ctrl-C comes: its start ends only when cancelled.
        builder.AddResource(new StartingResource("slow")).WithAnnotation(new InitializeAnnotation(async (_, token) =>
        {
            initializing.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
        }));
        builder.AddExecutable("app", "sleep", ".", "60");

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        var pid = (await app.ResourceNotifications.WaitForResourceAsync("app", KnownResourceStates.Running, ct)).Snapshot.ProcessId!.Value;
        await initializing.Task.WaitAsync(ct);
        var sessionDirectory = app.Services.GetRequiredService<Orchestration.DataDirectories>().SessionDirectory;

        await app.StopAsync(ct);

        Assert.False(TestApp.IsAlive(pid), "the started process is still running");
        Assert.False(Directory.Exists(sessionDirectory), "the session directory was not removed");
    }

    [Fact]
    public async Task A_hang_up_signal_stops_a_running_app_gracefully()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        builder.AddExecutable("app", "sh", ".", "-c", "trap 'echo stopped gracefully; exit 0' TERM; echo trapped; while true; do sleep 1; done");

        await using var app = await builder.BuildAsync(ct);
        var notifications = app.ResourceNotifications;
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        var run = app.RunAsync(ct);
        Assert.True(await TestApp.EventuallyAsync(() => logs.GetBacklog("app").Any(l => l.Text == "trapped"), TimeSpan.FromSeconds(30)), "the process never set its trap");

        // To this process alone (the test's): without the handler SIGHUP would end the test run here.
        using (var hangUp = System.Diagnostics.Process.Start("kill", ["-HUP", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await hangUp.WaitForExitAsync(ct);
        }

        await run.WaitAsync(ct);
        Assert.True(notifications.TryGetCurrentState("app", out var stopped));
        Assert.Equal(KnownResourceStates.Exited, stopped.Snapshot.State);
        Assert.Equal(0, stopped.Snapshot.ExitCode);
        Assert.Contains(logs.GetBacklog("app"), l => l.Text == "stopped gracefully");
    }

    [Fact]
    public async Task A_configured_connection_string_uses_the_existing_server_and_starts_nothing()
    {
        var ct = TestApp.Timeout();
        var first = TestApp.Create(output);
        first.AddPostgres("postgres");
        await using var server = await first.BuildAsync(ct);
        await server.StartAsync(ct);
        await server.ResourceNotifications.WaitForResourceHealthyAsync("postgres", ct);
        var existing = await server.GetConnectionStringAsync("postgres", ct);

        var second = TestApp.Create(output, $"--ConnectionStrings:postgres={existing}");
        second.AddPostgres("postgres").AddDatabase("reuseddb");
        await using var app = await second.BuildAsync(ct);
        await app.StartAsync(ct);

        var postgres = await app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("reuseddb", ct);
        Assert.Null(postgres.Snapshot.ProcessId);
        Assert.Equal($"{existing};Database=reuseddb", await app.GetConnectionStringAsync("reuseddb", ct));
    }

    [Fact]
    public async Task WaitForCompletion_starts_a_resource_after_another_ran_to_completion()
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output);
        var migrate = builder.AddExecutable("migrate", "sh", ".", "-c", "echo migrated");
        builder.AddExecutable("api", "sh", ".", "-c", "echo started; sleep 30").WaitForCompletion(migrate);

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        var finished = await app.ResourceNotifications.WaitForResourceAsync("migrate", KnownResourceStates.Finished, ct);
        var api = await app.ResourceNotifications.WaitForResourceAsync("api", KnownResourceStates.Running, ct);
        Assert.Equal(0, finished.Snapshot.ExitCode);
        Assert.True(api.Snapshot.StartTimeStamp >= finished.Snapshot.StopTimeStamp);
    }

    [Fact]
    public async Task A_run_removes_what_a_killed_previous_run_left_behind()
    {
        var ct = TestApp.Timeout();
        var dataDirectory = Directory.CreateTempSubdirectory("shop-leftovers-").FullName;
        try
        {
            // A process the previous run recorded but the parent-death signal missed (it changed its session, say).
            using var leftover = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
            var startTime = Orchestration.PosixProcess.StartTime(leftover.Id);
            Directory.CreateDirectory(Path.Combine(dataDirectory, ".run"));
            await File.WriteAllTextAsync(
                Path.Combine(dataDirectory, ".run", "processes.json"),
                $$"""[{"ResourceId":"api","ProcessId":{{leftover.Id}},"KernelStartTime":{{startTime}}}]""",
                ct);

            var builder = TestApp.Create(output, $"--AppHost:DataDirectory={dataDirectory}");
            builder.AddRedis("cache");
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);

            Assert.True(await TestApp.EventuallyAsync(() => leftover.HasExited, TimeSpan.FromSeconds(10)), "the leftover process is still running");
            await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", ct);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_stale_lock_file_whose_PID_now_belongs_to_another_server_does_not_block_the_start()
    {
        var ct = TestApp.Timeout();
        var dataDirectory = CreatePostgresDataDirectory("shop-stale-lock-");
        try
        {
            await RunPostgresAsync(dataDirectory, persistent: true, "CREATE TABLE notes(text text); INSERT INTO notes VALUES ('kept')");

            // The PID of a killed server, since reused by a process of the same user: another cluster's server.
            var builder = TestApp.Create(output);
            builder.AddPostgres("other");
            await using var other = await builder.BuildAsync(ct);
            await other.StartAsync(ct);
            var otherServer = (await other.ResourceNotifications.WaitForResourceHealthyAsync("other", ct)).Snapshot.ProcessId!.Value;
            var lockFile = Path.Combine(dataDirectory, "postgres", "pgdata", "postmaster.pid");
            await File.WriteAllTextAsync(
                lockFile,
                $"{otherServer}\n{Path.GetDirectoryName(lockFile)}\n1700000000\n5432\n/tmp\n127.0.0.1\n  5432001    32768\nready   \n",
                ct);

            Assert.Equal("kept", await RunPostgresAsync(dataDirectory, persistent: true, "SELECT text FROM notes"));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task The_dashboards_kept_telemetry_is_private_to_the_user()
    {
        var ct = TestApp.Timeout(120);
        var dataDirectory = Directory.CreateTempSubdirectory("shop-private-telemetry-").FullName;
        try
        {
            var builder = TestApp.Create(
                output, $"--AppHost:DataDirectory={dataDirectory}", "--AppHost:DisableDashboard=false", "--AppHost:Dashboard:PersistTelemetry=true");
            builder.AddExecutable("app", "sleep", ".", "60");
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);
            await app.ResourceNotifications.WaitForResourceAsync("app", KnownResourceStates.Running, ct);

            const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Assert.Equal(owner, File.GetUnixFileMode(Path.Combine(dataDirectory, ".dashboard")));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Redis_and_broker_data_directories_are_private_to_the_user_even_when_they_existed_open()
    {
        var ct = TestApp.Timeout(120);
        var dataDirectory = Directory.CreateTempSubdirectory("shop-private-").FullName;
        try
        {
            // Kept data from before: directories made with the usual umask, readable by everyone.
            const UnixFileMode open = (UnixFileMode)0b111_101_101;
            foreach (var name in new[] { "cache", "kafka" })
            {
                File.SetUnixFileMode(Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName, open);
            }

            var builder = TestApp.Create(output, $"--AppHost:DataDirectory={dataDirectory}");
            builder.AddRedis("cache").WithDataVolume();
            builder.AddRedis("scratch");
            builder.AddKafka("kafka").WithDataVolume();
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);
            foreach (var name in new[] { "cache", "scratch", "kafka" })
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, ct);
            }

            var directories = app.Services.GetRequiredService<Orchestration.DataDirectories>();
            const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Assert.Equal(owner, File.GetUnixFileMode(Path.Combine(dataDirectory, "cache")));
            Assert.Equal(owner, File.GetUnixFileMode(Path.Combine(dataDirectory, "kafka")));
            Assert.Equal(owner, File.GetUnixFileMode(directories.GetResourceDirectory("scratch", persistent: false)));
            // What the servers wrote there is behind them (Redis's append-only files, the broker's logs).
            Assert.True(Directory.Exists(Path.Combine(dataDirectory, "cache", "appendonlydir")));
            Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(dataDirectory, "kafka")));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_app_on_the_same_data_directory_refuses_to_start_and_leaves_the_first_running()
    {
        var ct = TestApp.Timeout();
        var dataDirectory = Directory.CreateTempSubdirectory("shop-owner-").FullName;
        try
        {
            var first = TestApp.Create(output, $"--AppHost:DataDirectory={dataDirectory}");
            first.AddExecutable("app", "sleep", ".", "60");
            await using var running = await first.BuildAsync(ct);
            await running.StartAsync(ct);
            var pid = (await running.ResourceNotifications.WaitForResourceAsync("app", KnownResourceStates.Running, ct)).Snapshot.ProcessId!.Value;

            var second = TestApp.Create(output, $"--AppHost:DataDirectory={dataDirectory}");
            second.AddExecutable("app", "sleep", ".", "60");
            await using (var refused = await second.BuildAsync(ct))
            {
                var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => refused.StartAsync(ct));
                Assert.StartsWith($"The data directory {dataDirectory} is in use by the AppHost with pid {Environment.ProcessId}:", error.Message, StringComparison.Ordinal);
                Assert.False(refused.ResourceNotifications.TryGetCurrentState("app", out _), "the second app started its resource");
            }

            // The first app's process, and its record for the next run's clean-up, outlive the second app.
            Assert.True(TestApp.IsAlive(pid), "the first app's process was killed");
            Assert.Contains($"\"ProcessId\":{pid},", await File.ReadAllTextAsync(Path.Combine(dataDirectory, ".run", "processes.json"), ct), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_data_directory_that_cannot_be_created_is_an_error_naming_the_setting()
    {
        var ct = TestApp.Timeout();
        var file = Path.GetTempFileName();
        try
        {
            var builder = TestApp.Create(output, $"--AppHost:DataDirectory={file}/data");
            builder.AddExecutable("app", "sleep", ".", "60");
            await using var app = await builder.BuildAsync(ct);

            var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync(ct));
            Assert.StartsWith($"AppHost:DataDirectory {file}/data cannot be used: ", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>As a checkout would be: reachable by the postgres user the server runs as when the tests run as root.</summary>
    private static string CreatePostgresDataDirectory(string prefix)
    {
        var directory = Directory.CreateTempSubdirectory(prefix).FullName;
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        return directory;
    }

    private async Task<string?> RunPostgresAsync(string dataDirectory, bool persistent, string sql, string? templateDirectory = null, params string[] args)
    {
        var ct = TestApp.Timeout();
        var builder = TestApp.Create(output, [
            $"--AppHost:DataDirectory={dataDirectory}",
            .. templateDirectory is null ? [] : new[] { $"--AppHost:Postgres:TemplateDirectory={templateDirectory}" },
            .. args]);
        var postgres = builder.AddPostgres("postgres");
        if (persistent)
        {
            postgres.WithDataVolume();
        }

        postgres.AddDatabase("notesdb");
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("notesdb", ct);

        await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("notesdb", ct));
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (string?)await command.ExecuteScalarAsync(ct);
    }

    private sealed class StartingResource(string name) : Resource(name);
}
