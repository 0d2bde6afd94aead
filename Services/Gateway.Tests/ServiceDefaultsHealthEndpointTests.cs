using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>
/// <c>/health</c> and <c>/alive</c> as <c>MapDefaultEndpoints</c> maps them in every service, behind a service's usual
/// problem handling: probes read them with GET or HEAD; any other method is a 405 problem with <c>Allow</c>.
/// </summary>
public sealed class ServiceDefaultsHealthEndpointTests : StartedAppTests
{
    protected override WebApplication CreateApp() => KestrelApps.CreateSlim(
        app =>
        {
            app.UseExceptionHandler();
            app.UseStatusCodePages();
            app.MapDefaultEndpoints();
        },
        builder =>
        {
            builder.AddDefaultHealthChecks();
            builder.AddDefaultProblemDetails();
        });

    [Theory]
    [InlineData("GET", "/health")]
    [InlineData("HEAD", "/health")]
    [InlineData("GET", "/alive")]
    [InlineData("HEAD", "/alive")]
    public async Task Probes_read_the_health_endpoints_with_GET_and_HEAD(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/health")]
    [InlineData("PUT", "/health")]
    [InlineData("DELETE", "/health")]
    [InlineData("POST", "/alive")]
    [InlineData("PATCH", "/alive")]
    public async Task Any_other_method_on_a_health_endpoint_is_a_405_problem_with_Allow(string method, string path)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("") });

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(405, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32());
    }
}
