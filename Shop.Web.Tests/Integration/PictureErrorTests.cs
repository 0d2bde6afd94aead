using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Shop.Web.Tests.Integration;

/// <summary>
/// A product picture the storefront cannot serve keeps its own status and is never the not-found page: a browser's
/// <c>img</c> gets no HTML, and a catalog that is down is a 503, not "Not found". Pages that do not exist still show it.
/// </summary>
public sealed class PictureErrorTests : StorefrontBeforeStandInGateway
{
    private const int MissingPicture = 1;
    private const int UnavailablePicture = 2;

    protected override void MapGateway(WebApplication gateway) =>
        gateway.MapGet("/api/products/items/{id:int}/pic", (int id) => id == MissingPicture
            ? Results.NotFound()
            : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service is unavailable."));

    [Theory]
    [InlineData(MissingPicture, HttpStatusCode.NotFound)]
    [InlineData(UnavailablePicture, HttpStatusCode.ServiceUnavailable)]
    public async Task A_picture_that_cannot_be_served_keeps_its_status_and_is_not_a_page(int productId, HttpStatusCode expected)
    {
        using var client = CreateClient();

        using var response = await client.GetAsync($"/catalog/pictures/{productId}");

        Assert.Equal(expected, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }
}
