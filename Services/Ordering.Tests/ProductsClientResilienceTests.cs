using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ordering.Api.Extensions;
using Ordering.Api.Model;
using Ordering.Api.Services;

namespace Ordering.Tests;

/// <summary>
/// Ordering's products client as ordering registers it, with the service defaults around it: the address comes from
/// service discovery, and a transient failure of products goes through the standard resilience handler's retry
/// without the caller seeing it. Only the network is replaced.
/// </summary>
public class ProductsClientResilienceTests
{
    private const string ProductsAddress = "http://127.0.0.1:5999";

    [Fact]
    public async Task A_transient_failure_of_products_is_retried_and_the_lookup_succeeds()
    {
        var products = new FakeProductsHandler(new CatalogProduct(1, "Trailhead 40L Backpack", 129.00m, 25)) { TransientFailures = 1 };
        using var host = BuildOrderingHost(products);

        var found = await host.Services.GetRequiredService<ProductsClient>().GetProductsAsync([1], CancellationToken.None);

        Assert.Equal("Trailhead 40L Backpack", Assert.Single(found).Name);
        Assert.Equal([$"{ProductsAddress}/api/products/items/by?ids=1", $"{ProductsAddress}/api/products/items/by?ids=1"], products.Requests.Select(r => r.ToString()));
    }

    private static IHost BuildOrderingHost(FakeProductsHandler products)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // What the AppHost tells ordering about products (WithReference), in the service-discovery format.
            ["services:products:http:0"] = ProductsAddress,
        });
        builder.AddServiceDefaults();
        builder.Services.AddProductsClient().ConfigurePrimaryHttpMessageHandler(() => products);
        return builder.Build();
    }
}
