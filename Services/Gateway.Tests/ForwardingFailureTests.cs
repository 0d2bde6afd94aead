using System.Net;
using Gateway.Configuration;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests;

/// <summary>
/// A YARP proxy answering failed forwards as the gateway does (<see cref="ProblemStatusCodePages"/>) on real Kestrel
/// servers: a service that is not there is unavailable for now, one that dies mid-answer is a bad gateway, a body that
/// outgrows the limit while it streams is too large, and a service that answers is passed through.
/// </summary>
public sealed class ForwardingFailureTests : IAsyncLifetime
{
    private const long MaxBodyBytes = 1024;

    private WebApplication _backend = null!;
    private WebApplication _proxy = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _backend = KestrelApps.CreateSlim(app =>
        {
            app.MapGet("/items", () => "ok");
            app.MapGet("/dies", (HttpContext context) => context.Abort());
            app.MapPost("/upload", async (HttpRequest request) => (await new StreamReader(request.Body).ReadToEndAsync()).Length);
        });
        await _backend.StartAsync();

        var closedPort = KestrelApps.ClosedPort();
        _proxy = KestrelApps.CreateSlim(
            app =>
            {
                app.UseProblemStatusCodePages();
                app.MapReverseProxy();
            },
            builder =>
            {
                builder.Services.AddProblemDetails();
                builder.Services.Configure<RequestLimitSettings>(limits => limits.MaxBodyBytes = MaxBodyBytes);
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
                builder.Services.AddReverseProxy().LoadFromMemory(
                    [Route("up", "/items"), Route("up", "/dies"), Route("up", "/upload"), Route("down", "/down/{**rest}")],
                    [Cluster("up", KestrelApps.AddressOf(_backend)), Cluster("down", $"http://127.0.0.1:{closedPort}")]);
            });
        await _proxy.StartAsync();
        _client = KestrelApps.ClientOf(_proxy);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _proxy.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task A_service_that_refuses_the_connection_is_unavailable_with_Retry_After()
    {
        using var response = await _client.PostAsync("/down/orders", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(ProblemDetailsExtensions.UnavailableRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_service_that_dies_mid_answer_is_a_bad_gateway_without_a_retry_hint()
    {
        using var response = await _client.GetAsync("/dies");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_body_of_unknown_length_that_outgrows_the_limit_is_too_large()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload")
        {
            Content = new StreamContent(new MemoryStream(new byte[MaxBodyBytes + 512])),
        };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"at most {MaxBodyBytes} bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_within_the_limit_is_forwarded()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StringContent(new string('x', 100)) };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("100", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_service_that_answers_is_passed_through()
    {
        using var response = await _client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    private static RouteConfig Route(string cluster, string path) =>
        new() { RouteId = $"{cluster}{path}", ClusterId = cluster, Match = new RouteMatch { Path = path } };

    private static ClusterConfig Cluster(string id, string address) =>
        new() { ClusterId = id, Destinations = new Dictionary<string, DestinationConfig> { ["one"] = new() { Address = address } } };
}
