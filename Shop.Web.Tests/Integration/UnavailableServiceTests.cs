using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// While a service is down the gateway answers 503 with <c>Retry-After</c>. The storefront retries a page's call a few
/// times within about two seconds and then says the service is unavailable; it does not wait out the Retry-After of
/// each try (5 s from the gateway; 30 s here, so that waiting for it cannot pass unseen).
/// </summary>
public sealed class UnavailableServiceTests : StorefrontBeforeStandInGateway
{
    private int _catalogCalls;

    protected override void MapGateway(WebApplication gateway) =>
        gateway.Map("/api/products/{**path}", (HttpContext context) =>
        {
            Interlocked.Increment(ref _catalogCalls);
            context.Response.Headers.RetryAfter = "30";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service is unavailable.");
        });

    [Fact]
    public async Task A_call_for_a_page_gives_up_after_quick_retries_rather_than_after_the_gateways_Retry_After()
    {
        // Far below one Retry-After of 30 s: the page must not wait for it.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var client = CreateClient();

        // A product picture: one call to the gateway, answered 503 by the storefront once the catalog is unavailable.
        using var response = await client.GetAsync("/catalog/pictures/1", timeout.Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(4, Volatile.Read(ref _catalogCalls));
    }
}
