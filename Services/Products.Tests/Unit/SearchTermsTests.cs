using Products.Api.Search;

namespace Products.Tests.Unit;

public class SearchTermsTests
{
    [Fact]
    public void Words_are_lower_cased_deduplicated_and_kept_in_order() =>
        Assert.Equal(["down", "jacket", "800"], SearchTerms.Parse("Down JACKET down, 800!"));

    [Theory]
    [InlineData("tent' | !x:* & (")]
    [InlineData("a<->b")]
    [InlineData("\\' OR 1=1 --")]
    public void Query_syntax_in_the_input_cannot_reach_to_tsquery(string search)
    {
        var query = SearchTerms.ToPrefixQuery(search);

        // Only words, each a prefix, joined with AND: nothing the user typed is an operator.
        foreach (var part in query.Split(" & "))
        {
            Assert.Matches("^[\\p{L}\\p{N}]+:\\*$", part);
        }
    }

    [Fact]
    public void Every_word_must_match_and_matches_as_a_prefix() =>
        Assert.Equal("trail:* & sho:*", SearchTerms.ToPrefixQuery("trail sho"));

    /// <summary>The catalog's query relies on it: PostgreSQL's English configuration drops them, the literal one keeps them.</summary>
    [Fact]
    public void Stop_words_stay_in_the_query_text() =>
        Assert.Equal("the:* & in:* & a:*", SearchTerms.ToPrefixQuery("The in A"));

    [Theory]
    [InlineData("shoes For", "for:*")]
    [InlineData("a", "a:*")]
    [InlineData("camp fork camp", "fork:*")]
    [InlineData(" - ; ", "")]
    public void The_last_word_has_a_query_of_its_own(string search, string expected) =>
        Assert.Equal(expected, SearchTerms.ToLastWordPrefixQuery(search));

    [Fact]
    public void Letters_beyond_ascii_are_words_too() =>
        Assert.Equal(["fjällräven", "größe"], SearchTerms.Parse("Fjällräven Größe"));

    [Fact]
    public void Only_the_first_words_are_used() =>
        Assert.Equal(SearchTerms.MaxTerms, SearchTerms.Parse(string.Join(' ', Enumerable.Range(0, 20).Select(i => $"w{i}"))).Count);

    [Fact]
    public void No_words_make_an_empty_query() =>
        Assert.Equal("", SearchTerms.ToPrefixQuery(" - ; "));
}
