using System.Globalization;
using Shop.Web.Catalog;

namespace Shop.Web.Tests.Unit;

public class CatalogQueryStateTests
{
    private static CatalogQueryState Parse(string? q = null, string? brand = null, string? category = null, string? min = null, string? max = null, string? sort = null, string? page = null) =>
        CatalogQueryState.Parse(q, brand, category, min, max, sort, page);

    [Fact]
    public void The_plain_catalog_lives_at_the_root_with_no_query()
    {
        Assert.Equal("/", CatalogQueryState.Default.ToUri());
        Assert.Equal("/", Parse().ToUri());
        Assert.Equal("/", Parse(q: "  ", brand: "", page: "1").ToUri());
    }

    [Fact]
    public void Every_choice_is_written_to_the_address_in_a_fixed_order_and_read_back_unchanged()
    {
        var state = Parse(q: "lamp", brand: "3", category: "7", min: "10.50", max: "99", sort: "price_desc", page: "4");

        var uri = state.ToUri();

        Assert.Equal("/?q=lamp&brand=3&category=7&min=10.5&max=99&sort=price_desc&page=4", uri);
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(new Uri("http://shop"), uri).Query);
        Assert.Equal(state, Parse(query["q"], query["brand"], query["category"], query["min"], query["max"], query["sort"], query["page"]));
    }

    [Fact]
    public void Search_words_are_escaped_in_the_address_and_for_the_api()
    {
        var state = Parse(q: "red & blue lamp");

        Assert.Equal("/?q=red%20%26%20blue%20lamp", state.ToUri());
        Assert.StartsWith("search=red%20%26%20blue%20lamp&", state.ToApiQuery(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_api_query_counts_pages_from_zero_and_names_the_api_parameters()
    {
        var state = Parse(brand: "2", min: "5", max: "20", sort: "name_desc", page: "3");

        Assert.Equal("brandId=2&minPrice=5&maxPrice=20&sort=name_desc&pageIndex=2&pageSize=12", state.ToApiQuery());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    [InlineData("two")]
    public void A_hand_edited_id_page_or_order_is_dropped_not_refused(string bad)
    {
        var state = Parse(brand: bad, category: bad, sort: bad, page: bad);

        Assert.Equal(CatalogQueryState.Default, state);
    }

    [Fact]
    public void An_id_past_ints_range_is_dropped()
    {
        var state = Parse(brand: "99999999999", category: "99999999999");

        Assert.Equal(CatalogQueryState.Default, state);
    }

    [Theory]
    [InlineData("-4")]
    [InlineData("two")]
    [InlineData("1e3")]
    [InlineData("99999999999")]
    public void A_price_that_is_no_price_or_beyond_any_real_one_is_dropped(string bad)
    {
        var state = Parse(min: bad, max: bad);

        Assert.Equal((null, null), (state.MinPrice, state.MaxPrice));
    }

    [Theory]
    [InlineData("2000000000")]
    [InlineData("99999999999")]
    [InlineData("000000000000000000007000000")]
    public void A_page_far_past_any_catalog_is_capped_even_past_ints_range(string page)
    {
        Assert.Equal(CatalogQueryState.MaxPage, Parse(page: page).Page);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("", 1)]
    [InlineData("0", 1)]
    [InlineData("007", 7)]
    [InlineData("-3", 1)]
    [InlineData("+3", 1)]
    [InlineData("three", 1)]
    public void A_page_is_digits_and_anything_else_is_the_first(string? page, int expected)
    {
        Assert.Equal(expected, Parse(page: page).Page);
    }

    [Fact]
    public void A_search_of_punctuation_alone_is_no_search()
    {
        Assert.Null(Parse(q: "?!…").Search);
    }

    [Fact]
    public void An_overlong_search_is_cut_to_what_the_api_accepts()
    {
        var state = Parse(q: new string('a', 150));

        Assert.Equal(CatalogQueryState.MaxSearchLength, state.Search!.Length);
    }

    [Fact]
    public void A_swapped_price_range_is_put_right()
    {
        var state = Parse(min: "50", max: "10");

        Assert.Equal((10m, 50m), (state.MinPrice, state.MaxPrice));
    }

    [Fact]
    public void Best_match_is_offered_only_with_a_search()
    {
        Assert.Null(Parse(sort: "relevance").Sort);
        Assert.Equal(CatalogSortOption.Relevance, Parse(q: "lamp", sort: "relevance").Sort);
        Assert.Equal(CatalogSortOption.Relevance, Parse(q: "lamp").EffectiveSort);
        Assert.Equal(CatalogSortOption.Name, Parse().EffectiveSort);
    }

    [Fact]
    public void Changing_the_order_starts_again_from_the_first_page_and_paging_keeps_the_filters()
    {
        var state = Parse(q: "lamp", brand: "3", page: "5");

        Assert.Equal("/?q=lamp&brand=3&sort=price", state.WithSort(CatalogSortOption.Price).ToUri());
        Assert.Equal("/?q=lamp&brand=3&page=6", state.WithPage(6).ToUri());
        Assert.Equal("/?q=lamp&brand=3", state.WithPage(1).ToUri());
    }

    [Fact]
    public void Prices_are_read_and_written_the_same_whatever_the_server_culture()
    {
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");

            var state = Parse(min: "12.5", max: "1,000");

            Assert.Equal(12.5m, state.MinPrice);
            Assert.Null(state.MaxPrice);
            Assert.Equal("/?min=12.5", state.ToUri());
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }
}
