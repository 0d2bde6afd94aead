using Microsoft.Extensions.DependencyInjection;
using Products.Api.Catalog;
using Products.Api.Infrastructure;
using Products.Api.Model;

namespace Products.Tests.Integration;

/// <summary>Full-text search as the catalog runs it, against a real PostgreSQL's text search configurations.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class CatalogSearchTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _services = await infrastructure.CreateProductsDatabaseAsync(timeout.Token);
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProductsContext>();
        var brand = new Brand { Name = "Northridge" };
        var category = new Category { Name = "Gear" };
        foreach (var (name, description) in new[]
        {
            ("Camp Stove", "Boils water fast."),
            ("Alpine Anorak", "Waterproof shell for the trail."),
            ("Thermal Insulated Jacket", "Warm on cold nights."),
            ("Trail Running Shoes", "Grippy soles."),
        })
        {
            var product = new Product { Name = name, Description = description, Price = 10m };
            product.SetBrandAndCategory(brand, category);
            db.Products.Add(product);
        }

        await db.SaveChangesAsync(timeout.Token);
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    /// <summary>
    /// "a", "the" and "in" are English stop words, which the English configuration drops from a query, leaving nothing
    /// to match: the first letters a shopper types found no product.
    /// </summary>
    [Theory]
    [InlineData("a", "Alpine Anorak")]
    [InlineData("A", "Alpine Anorak")]
    [InlineData("the", "Thermal Insulated Jacket")]
    [InlineData("in", "Thermal Insulated Jacket")]
    [InlineData("the in", "Thermal Insulated Jacket")]
    public async Task A_search_of_stop_words_alone_finds_words_starting_with_them(string search, string found) =>
        Assert.Equal([found], await SearchAsync(search));

    [Theory]
    [InlineData("trail sho", new[] { "Trail Running Shoes" })]
    [InlineData("trail", new[] { "Trail Running Shoes", "Alpine Anorak" })]
    [InlineData("jackets", new[] { "Thermal Insulated Jacket" })]
    [InlineData("northridge stove", new[] { "Camp Stove" })]
    [InlineData("shoes for the trail", new[] { "Trail Running Shoes" })]
    [InlineData("an anorak", new[] { "Alpine Anorak" })]
    public async Task Searches_with_other_words_match_stemmed_prefixes_and_ignore_stop_words(string search, string[] found) =>
        Assert.Equal(found, await SearchAsync(search));

    /// <summary>Both match "water" equally well, and the stove comes first on a tie (its id is lower).</summary>
    [Fact]
    public async Task A_stop_word_beside_other_words_ranks_the_products_that_have_a_word_starting_with_it_first() =>
        Assert.Equal(["Alpine Anorak", "Camp Stove"], await SearchAsync("water a"));

    private async Task<List<string>> SearchAsync(string search)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var scope = _services.CreateAsyncScope();
        var query = new CatalogQuery(Search: search);
        Assert.Empty(query.Validate());
        var (_, items) = await CatalogQueries.PageAsync(scope.ServiceProvider.GetRequiredService<ProductsContext>(), query, timeout.Token);
        return [.. items.Select(i => i.Name)];
    }
}
