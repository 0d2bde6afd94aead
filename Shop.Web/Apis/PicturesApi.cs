using System.Net;
using Microsoft.Net.Http.Headers;
using Shop.Web.Services;

namespace Shop.Web.Apis;

/// <summary>
/// Product pictures, served from the storefront's own origin: the browser talks to the storefront only, and the
/// products service's caching (ETag, Cache-Control) passes through, so a picture is revalidated, not re-sent.
/// </summary>
public static class PicturesApi
{
    /// <summary>Where a product's picture is, for pages: <c>/catalog/pictures/{id}</c>.</summary>
    public static string PictureUrl(int productId) => $"{PicturesPath}/{productId}";

    /// <summary>Where the pictures are: an address under it that names no picture is an empty 404, never a page.</summary>
    public const string PicturesPath = "/catalog/pictures";

    public static IEndpointRouteBuilder MapPicturesApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // HEAD as GET (the server sends no body): link checkers and caches ask that way.
        app.MapMethods(PicturesPath + "/{id:int}", [HttpMethods.Get, HttpMethods.Head], GetPicture)
            .WithName("GetProductPicture")
            .ExcludeFromDescription();

        return app;
    }

    public static async Task<IResult> GetPicture(int id, HttpContext context, CatalogService catalog, CancellationToken cancellationToken)
    {
        CatalogPicture picture;
        try
        {
            picture = await catalog.GetPictureAsync(id, context.Request.Headers.IfNoneMatch.ToString(), cancellationToken);
        }
        catch (CatalogUnavailableException)
        {
            return TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        var headers = context.Response.Headers;
        if (picture.ETag is { } etag)
        {
            headers.ETag = etag;
        }

        if (picture.CacheControl is { } cacheControl)
        {
            headers.CacheControl = cacheControl;
        }

        // The pictures are SVG: opened on their own they must not run anything (nosniff comes with every answer:
        // UseSecurityHeaders).
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";

        return picture switch
        {
            { Status: HttpStatusCode.OK, Content: { } content } => TypedResults.File(content, picture.ContentType ?? "image/svg+xml"),
            { Status: HttpStatusCode.NotModified } => TypedResults.StatusCode(StatusCodes.Status304NotModified),
            _ => TypedResults.NotFound(),
        };
    }
}
