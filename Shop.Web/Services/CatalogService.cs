using System.Globalization;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Shop.Web.Services;

public sealed record CatalogItem(
    int Id,
    string Name,
    string Description,
    decimal Price,
    string Brand,
    string Category,
    string PictureFileName,
    int AvailableStock);

public sealed record CatalogPage(int PageIndex, int PageSize, long Count, IReadOnlyList<CatalogItem> Data)
{
    public int PageCount => (int)Math.Ceiling(Count / (double)PageSize);
}

/// <summary>The catalog, read through the gateway.</summary>
public sealed partial class CatalogService(HttpClient http, ILogger<CatalogService> logger)
{
    public static readonly Uri GatewayAddress = new("http://gateway");

    /// <exception cref="CatalogUnavailableException">The gateway or the products service did not answer.</exception>
    public async Task<CatalogPage> GetItemsAsync(int pageIndex, int pageSize, CancellationToken cancellationToken = default)
    {
        var uri = string.Create(CultureInfo.InvariantCulture, $"/api/products/items?pageIndex={pageIndex}&pageSize={pageSize}");
        try
        {
            return await http.GetFromJsonAsync<CatalogPage>(uri, cancellationToken)
                   ?? throw new CatalogUnavailableException("The catalog answered with an empty body.");
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
                                              or System.Text.Json.JsonException)
        {
            LogUnavailable(logger, exception);
            throw new CatalogUnavailableException(exception.Message, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The catalog could not be read through the gateway")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}

public sealed class CatalogUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
