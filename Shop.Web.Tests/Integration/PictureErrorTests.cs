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
    private const int Picture = 3;

    protected override void MapGateway(WebApplication gateway) =>
        gateway.MapGet("/api/products/items/{id:int}/pic", (int id, HttpContext context) =>
        {
            switch (id)
            {
                case MissingPicture:
                    return Results.NotFound();
                case Picture:
                    context.Response.Headers.ETag = "\"picture-3\"";
                    return Results.Bytes("<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray(), "image/svg+xml");
                default:
                    return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service is unavailable.");
            }
        });

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

    [Fact]
    public async Task A_picture_answers_HEAD_as_it_answers_GET()
    {
        using var client = CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/catalog/pictures/{Picture}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("\"picture-3\"", response.Headers.ETag?.ToString());
    }

    [Theory]
    [InlineData("/catalog/pictures/lantern")]
    [InlineData("/catalog/pictures/3/large")]
    [InlineData("/Catalog/Pictures/")]
    public async Task An_address_among_the_pictures_that_names_none_is_an_empty_404_not_a_page(string path)
    {
        using var client = CreateClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_page_address_that_does_not_exist_still_shows_the_not_found_page()
    {
        using var client = CreateClient();

        using var response = await client.GetAsync("/catalog/lantern");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
