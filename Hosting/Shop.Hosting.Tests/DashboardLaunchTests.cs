using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;
using Xunit.Abstractions;

namespace Shop.Hosting.Tests;

/// <summary>The dashboard the AppHost starts, seen from outside.</summary>
public sealed class DashboardLaunchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_allow_anonymous_variable_in_the_app_hosts_environment_does_not_switch_off_the_dashboards_sign_in()
    {
        var ct = TestApp.Timeout();
        // Only the dashboard reads this variable, and it is not passed on to any child now.
        Environment.SetEnvironmentVariable("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", "true");
        try
        {
            var builder = TestApp.Create(output, "--AppHost:DisableDashboard=false");
            builder.AddExecutable("app", "sleep", ".", "60");
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);

            var login = app.GetDashboardLoginUrl();
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(login.GetLeftPart(UriPartial.Authority)) };
            using var anonymous = await GetOnceListeningAsync(http, "/api/telemetry/resources", ct);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

            using var signIn = await http.GetAsync(login.PathAndQuery, ct);
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS", null);
        }
    }

    [Fact]
    public async Task A_dashboard_that_failed_to_start_is_not_advertised_in_the_Ready_line_and_its_errors_are_shown()
    {
        var ct = TestApp.Timeout();
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var logs = new ConcurrentQueue<string>();
        var builder = TestApp.Create(output, "--AppHost:DisableDashboard=false", $"--AppHost:Dashboard:Port={port}");
        builder.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(logs.Enqueue)));
        // Healthy only once the dashboard has given up, so the Ready line comes after that.
        builder.AddExecutable("app", "sleep", ".", "60").WithHealthCheck("dashboard-gone", (_, _) => Task.FromResult(
            logs.Any(l => l.Contains("The dashboard exited", StringComparison.Ordinal))
                ? HealthCheckOutcome.Healthy
                : HealthCheckOutcome.Unhealthy("the dashboard is still starting")));
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        Assert.True(await TestApp.EventuallyAsync(() => logs.Any(l => l.Contains("Ready:", StringComparison.Ordinal)), TimeSpan.FromSeconds(60)));
        var ready = logs.Single(l => l.Contains("Ready:", StringComparison.Ordinal));
        Assert.Contains("dashboard: not available: it exited with code", ready, StringComparison.Ordinal);
        Assert.DoesNotContain($":{port}", ready, StringComparison.Ordinal);

        var exited = logs.Single(l => l.Contains("The dashboard exited", StringComparison.Ordinal));
        Assert.Contains("Its last warnings and errors:", exited, StringComparison.Ordinal);
        Assert.Contains("address already in use", exited, StringComparison.Ordinal);
        Assert.DoesNotContain("info:", exited, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> GetOnceListeningAsync(HttpClient http, string path, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await http.GetAsync(path, ct);
            }
            catch (HttpRequestException)
            {
                // The dashboard is still starting.
                await Task.Delay(100, ct);
            }
        }
    }
}
