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
            ("Formal Shoes", "Polished leather."),
            ("Camping Fork", "Titanium."),
            ("Палатка туристическая", "Двухместная."),
            ("Tente légère Été", "Pour deux."),
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
    [InlineData("for shoes", new[] { "Formal Shoes", "Trail Running Shoes" })]
    public async Task Searches_with_other_words_match_stemmed_prefixes_and_ignore_stop_words(string search, string[] found) =>
        Assert.Equal(found, await SearchAsync(search));

    /// <summary>
    /// The last word may be the start of a longer one: a stop word there narrows the search like the letters before it
    /// did. English alone drops it, so "camp for" found every camping product between "camp fo" and "camp fork".
    /// </summary>
    [Theory]
    [InlineData("camp for", new[] { "Camping Fork" })]
    [InlineData("shoes for", new[] { "Formal Shoes" })]
    [InlineData("water a", new[] { "Alpine Anorak" })]
    [InlineData("jacket the", new[] { "Thermal Insulated Jacket" })]
    [InlineData("stove the", new string[0])]
    public async Task A_stop_word_typed_last_must_start_a_word(string search, string[] found) =>
        Assert.Equal(found, await SearchAsync(search));

    /// <summary>The search box is queried at every letter: the results may only narrow as a word grows.</summary>
    [Theory]
    [InlineData("camp fork")]
    [InlineData("shoes formal")]
    [InlineData("water anorak")]
    [InlineData("jacket thermal")]
    public async Task Typing_another_letter_never_finds_more(string typed)
    {
        var previous = await SearchAsync(typed[..typed.IndexOf(' ')], CatalogQuery.MaxPageSize);
        for (var length = typed.IndexOf(' ') + 2; length <= typed.Length; length++)
        {
            var found = await SearchAsync(typed[..length], CatalogQuery.MaxPageSize);
            Assert.True(found.All(previous.Contains), $"\"{typed[..length]}\" found {string.Join(", ", found)}; one letter less, {string.Join(", ", previous)}.");
            previous = found;
        }
    }

    /// <summary>
    /// The reverse of <see cref="Typing_another_letter_never_finds_more"/>: a product the whole word finds is found at
    /// every letter typed on the way. English stems an unfinished word as if it were whole ("insula" stays "insula"),
    /// which is no prefix of the finished word's stem ("insul"), so the results vanished mid-word and came back at its end.
    /// </summary>
    [Theory]
    [InlineData("camping", "Camping Fork")]
    [InlineData("insulated", "Thermal Insulated Jacket")]
    [InlineData("shoes running", "Trail Running Shoes")]
    [InlineData("polished", "Formal Shoes")]
    public async Task Every_letter_typed_of_a_matching_word_finds_its_product(string typed, string product)
    {
        for (var length = 1; length <= typed.Length; length++)
        {
            if (typed[length - 1] != ' ')
            {
                Assert.Contains(product, await SearchAsync(typed[..length], CatalogQuery.MaxPageSize));
            }
        }
    }

    /// <summary>
    /// The database's character type was C, under which PostgreSQL lower-cases ASCII letters alone: the catalog kept
    /// "Палатка" and "Été" as written while the search was lower-cased, so no search found them.
    /// </summary>
    [Theory]
    [InlineData("Палатка", "Палатка туристическая")]
    [InlineData("палатка", "Палатка туристическая")]
    [InlineData("ПАЛАТКА", "Палатка туристическая")]
    [InlineData("Пал", "Палатка туристическая")]
    [InlineData("туристическ", "Палатка туристическая")]
    [InlineData("Été", "Tente légère Été")]
    [InlineData("été", "Tente légère Été")]
    [InlineData("ÉT", "Tente légère Été")]
    [InlineData("LÉGÈRE", "Tente légère Été")]
    [InlineData("tente lég", "Tente légère Été")]
    public async Task Words_with_capitals_outside_ASCII_are_found_in_any_case(string search, string found) =>
        Assert.Equal([found], await SearchAsync(search));

    private async Task<List<string>> SearchAsync(string search, int pageSize = CatalogQuery.DefaultPageSize)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var scope = _services.CreateAsyncScope();
        var query = new CatalogQuery(Search: search, PageSize: pageSize);
        Assert.Empty(query.Validate());
        var (_, items) = await CatalogQueries.PageAsync(scope.ServiceProvider.GetRequiredService<ProductsContext>(), query, timeout.Token);
        return [.. items.Select(i => i.Name)];
    }
}
