using System.Net;
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
