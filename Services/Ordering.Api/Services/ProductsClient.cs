using System.Globalization;
using Ordering.Api.Model;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Ordering.Api.Services;

/// <summary>
/// The products service's API. Its HttpClient comes with service discovery (<c>http://products</c>) and the
/// standard resilience handler from the service defaults.
/// </summary>
public sealed partial class ProductsClient(HttpClient http, ILogger<ProductsClient> logger)
{
    public static readonly Uri BaseAddress = new("http://products");

    /// <summary>The products among <paramref name="ids"/> that exist, with their current prices.</summary>
    /// <exception cref="ProductsUnavailableException">Products did not answer, even after the retries.</exception>
    public async Task<IReadOnlyList<CatalogProduct>> GetProductsAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return [];
        }

        var query = string.Join('&', ids.Select(id => "ids=" + id.ToString(CultureInfo.InvariantCulture)));
        try
        {
            var products = await http.GetFromJsonAsync<List<CatalogProduct>>($"/api/products/items/by?{query}", cancellationToken);
            return products ?? throw new ProductsUnavailableException("The products service answered with an empty body.");
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
                                              or System.Text.Json.JsonException)
        {
            LogUnavailable(logger, exception);
            throw new ProductsUnavailableException($"The products service could not be reached: {exception.Message}", exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The products service did not answer a price lookup")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}

public sealed class ProductsUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
