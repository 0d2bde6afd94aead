using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Shop.Web.Cart;
using Shop.Web.Catalog;

namespace Shop.Web.Services;

public sealed record CatalogItem(
    int Id,
    string Name,
    string Description,
    decimal Price,
    string Brand,
    string Category,
    int AvailableStock,
    int BrandId,
    int CategoryId);

public sealed record CatalogPage(int PageIndex, int PageSize, long Count, IReadOnlyList<CatalogItem> Data)
{
    public int PageCount => (int)Math.Ceiling(Count / (double)PageSize);
}

/// <summary>A brand or a category, for the catalog's filters.</summary>
public sealed record CatalogFacet(int Id, string Name);

/// <summary>A product picture as the products service served it, or only its status (304, 404).</summary>
public sealed record CatalogPicture(HttpStatusCode Status, byte[]? Content, string? ContentType, string? ETag, string? CacheControl);

/// <summary>
/// The catalog, read through the gateway. Catalog reads are public: they go without the visitor's token, so they
/// count against the visitor's address at the gateway, never against a signed-in user's own limit.
/// </summary>
public sealed partial class CatalogService(HttpClient http, ILogger<CatalogService> logger)
{
    public static readonly Uri GatewayAddress = new("http://gateway");

    /// <summary>The catalog's ids-per-request limit for <see cref="GetItemsByIdsAsync"/>.</summary>
    private const int MaxIdsPerRequest = 100;

    /// <summary>A page of the listing, or the products API's reasons for refusing the query.</summary>
    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public async Task<(CatalogPage? Page, ApiProblem? Problem)> GetItemsAsync(CatalogQueryState query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);

        using var response = await SendAsync("/api/products/items?" + query.ToApiQuery(), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await ApiProblem.ReadAsync(response, cancellationToken);
            return problem.Status < 500 ? (null, problem) : throw Unavailable(problem);
        }

        return (await ReadAsync<CatalogPage>(response, cancellationToken), null);
    }

    /// <summary>One product, or null when there is none.</summary>
    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public async Task<CatalogItem?> GetItemAsync(int id, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(string.Create(CultureInfo.InvariantCulture, $"/api/products/items/{id}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        return response.IsSuccessStatusCode
            ? await ReadAsync<CatalogItem>(response, cancellationToken)
            : throw Unavailable(await ApiProblem.ReadAsync(response, cancellationToken));
    }

    /// <summary>The current entries of these products (those deleted from the catalog are left out).</summary>
    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public async Task<IReadOnlyList<CatalogItem>> GetItemsByIdsAsync(IEnumerable<int> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);

        List<CatalogItem> items = [];
        foreach (var chunk in ids.Distinct().Chunk(MaxIdsPerRequest))
        {
            var uri = "/api/products/items/by?" + string.Join('&', chunk.Select(id => string.Create(CultureInfo.InvariantCulture, $"ids={id}")));
            using var response = await SendAsync(uri, cancellationToken);
            items.AddRange(response.IsSuccessStatusCode
                ? await ReadAsync<List<CatalogItem>>(response, cancellationToken)
                : throw Unavailable(await ApiProblem.ReadAsync(response, cancellationToken)));
        }

        return items;
    }

    /// <summary>The cart priced with the catalog's current entries and checked against today's stock.</summary>
    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public async Task<PricedCart> PriceAsync(ShoppingCart cart, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cart);
        return PricedCart.Price(cart, await GetItemsByIdsAsync(cart.Lines.Select(l => l.ProductId), cancellationToken));
    }

    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public Task<IReadOnlyList<CatalogFacet>> GetBrandsAsync(CancellationToken cancellationToken = default) =>
        GetFacetsAsync("/api/products/brands", cancellationToken);

    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public Task<IReadOnlyList<CatalogFacet>> GetCategoriesAsync(CancellationToken cancellationToken = default) =>
        GetFacetsAsync("/api/products/categories", cancellationToken);

    /// <summary>A product's picture; <paramref name="ifNoneMatch"/> is the browser's cached version, answered with 304 when current.</summary>
    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public async Task<CatalogPicture> GetPictureAsync(int id, string? ifNoneMatch, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/api/products/items/{id}/pic"));
        if (!string.IsNullOrEmpty(ifNoneMatch))
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        using var response = await SendAsync(request, cancellationToken);
        var etag = response.Headers.ETag?.ToString();
        var cacheControl = response.Headers.CacheControl?.ToString();
        return response.StatusCode switch
        {
            HttpStatusCode.OK => new CatalogPicture(
                HttpStatusCode.OK,
                await response.Content.ReadAsByteArrayAsync(cancellationToken),
                response.Content.Headers.ContentType?.ToString(),
                etag,
                cacheControl),
            HttpStatusCode.NotModified or HttpStatusCode.NotFound => new CatalogPicture(response.StatusCode, null, null, etag, cacheControl),
            _ => throw Unavailable(await ApiProblem.ReadAsync(response, cancellationToken)),
        };
    }

    private async Task<IReadOnlyList<CatalogFacet>> GetFacetsAsync(string uri, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(uri, cancellationToken);
        return response.IsSuccessStatusCode
            ? await ReadAsync<List<CatalogFacet>>(response, cancellationToken)
            : throw Unavailable(await ApiProblem.ReadAsync(response, cancellationToken));
    }

    private Task<HttpResponseMessage> SendAsync(string uri, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, uri), cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            try
            {
                return await http.SendAsync(request, cancellationToken);
            }
            catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
            {
                LogUnavailable(logger, exception);
                throw new CatalogUnavailableException(exception.Message, exception);
            }
        }
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(cancellationToken)
                   ?? throw new CatalogUnavailableException("The catalog answered with an empty body.");
        }
        catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
        {
            LogUnavailable(logger, exception);
            throw new CatalogUnavailableException(exception.Message, exception);
        }
    }

    private CatalogUnavailableException Unavailable(ApiProblem problem)
    {
        LogRefused(logger, problem.Status, problem.Title);
        return new CatalogUnavailableException(problem.Message("The catalog"));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The catalog could not be read through the gateway")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The catalog answered {Status} through the gateway: {Title}")]
    private static partial void LogRefused(ILogger logger, int status, string? title);
}

public sealed class CatalogUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
