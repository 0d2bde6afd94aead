using System.Net;
using System.Text.Json;

namespace Gateway.Tests;

/// <summary>
/// Requests no endpoint takes, in front of stand-in services: a path no route has is a 404 problem saying so, and a
/// path that exists under other methods is a 405 problem with <c>Allow</c>, never a 404.
/// </summary>
public sealed class UnmatchedRequestTests : GatewayBeforeStandInsTests
{
    [Fact]
    public async Task A_path_no_route_has_is_a_404_problem_naming_the_request()
    {
        using var response = await Client.PostAsync("/nowhere/at/all", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("No route matches this request.", problem.GetProperty("title").GetString());
        Assert.Equal("The gateway has no route for POST /nowhere/at/all.", problem.GetProperty("detail").GetString());
        Assert.Empty(Services.Requests);
    }

    [Theory]
    [InlineData("POST", "/api/bff/orders/8f0e7c3a-1b2d-4e5f-9a6b-7c8d9e0f1a2b", "GET")]
    [InlineData("TRACE", "/api/products/items/7", "GET")]
    [InlineData("OPTIONS", "/api/products/items", "GET")]
    public async Task A_path_that_exists_under_other_methods_is_a_405_problem_with_Allow(string method, string path, string allowed)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains(allowed, response.Content.Headers.Allow);
        Assert.Equal(405, (await ReadProblemAsync(response)).GetProperty("status").GetInt32());
        Assert.Empty(Services.Requests);
    }

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}
