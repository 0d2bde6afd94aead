using System.Text.Json;
using System.Text.Json.Serialization;
using Products.Api.Model;

namespace Products.Api.Infrastructure;

/// <summary>
/// Serialization code generated at build time for the hottest responses (catalog pages and products), so a cached
/// page costs no reflection-based serialization; every other type falls back to the default resolver.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PaginatedItems<ProductItem>))]
[JsonSerializable(typeof(ProductItem))]
[JsonSerializable(typeof(List<ProductItem>))]
[JsonSerializable(typeof(IReadOnlyList<CatalogFacet>))]
internal sealed partial class ProductsJsonContext : JsonSerializerContext;
