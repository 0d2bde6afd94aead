using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// The storefront's own pipeline (its Program, in process): a browser's request for a page that does not exist gets
/// the not-found page, and a health endpoint asked with another method than GET or HEAD keeps routing's 405 with
/// <c>Allow</c> rather than being answered by that page.
/// </summary>
public sealed class StatusCodePagesTests : IDisposable
{
    private readonly WebApplicationFactory<Program> _storefront = Storefront();

    private static WebApplicationFactory<Program> Storefront() => new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
        .UseEnvironment("Development")
        // Only what start-up needs: no identity service, gateway or Redis is called by these requests.
        .UseSetting("Identity:Url", "http://127.0.0.1:1"));

    public void Dispose() => _storefront.Dispose();

    [Theory]
    [InlineData("POST", "/health")]
    [InlineData("PUT", "/health")]
    [InlineData("DELETE", "/alive")]
    public async Task Another_method_on_a_health_endpoint_is_a_405_with_Allow(string method, string path)
    {
        using var client = _storefront.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("") });

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_page_that_does_not_exist_shows_the_not_found_page()
    {
        using var client = _storefront.CreateClient();

        using var response = await client.GetAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("<h1>Not found</h1>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_HEAD_request_for_a_page_is_answered_as_its_GET_is_without_the_body()
    {
        // On a real server: the in-memory test server hands a HEAD the body the page wrote.
        await using var storefront = Storefront();
        storefront.UseKestrel(0);
        storefront.StartServer();
        using var client = storefront.CreateClient();

        using var get = await client.GetAsync("/cart");
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/cart"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_HEAD_request_for_a_page_that_does_not_exist_is_a_404()
    {
        using var client = _storefront.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/no/such/page"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/no/such/page")]
    [InlineData("/health")]
    public async Task Every_answer_forbids_content_sniffing_and_keeps_page_addresses_out_of_other_sites_Referer(string path)
    {
        using var client = _storefront.CreateClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Equal(["strict-origin-when-cross-origin"], response.Headers.GetValues("Referrer-Policy"));
    }
}
