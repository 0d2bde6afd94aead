using Products.Api.Model;

namespace Products.Tests.Unit;

public class CatalogQueryTests
{
    [Fact]
    public void Defaults_are_a_valid_first_page_ordered_by_name()
    {
        var query = new CatalogQuery();

        Assert.Empty(query.Validate());
        Assert.Equal(0, query.PageIndex);
        Assert.Equal(CatalogQuery.DefaultPageSize, query.PageSize);
        Assert.Equal(CatalogSort.Name, query.EffectiveSort);
    }

    [Fact]
    public void A_search_without_sort_is_ordered_by_relevance() =>
        Assert.Equal(CatalogSort.Relevance, new CatalogQuery(Search: "tent").EffectiveSort);

    [Theory]
    [InlineData("name", CatalogSort.Name)]
    [InlineData("NAME_DESC", CatalogSort.NameDesc)]
    [InlineData("price", CatalogSort.Price)]
    [InlineData("price_desc", CatalogSort.PriceDesc)]
    [InlineData("newest", CatalogSort.Newest)]
    public void Sort_names_are_read_case_insensitively(string sort, CatalogSort expected)
    {
        var query = new CatalogQuery(Sort: sort);

        Assert.Empty(query.Validate());
        Assert.Equal(expected, query.EffectiveSort);
    }

    [Theory]
    [InlineData(-1, 10, "pageIndex")]
    [InlineData(0, 0, "pageSize")]
    [InlineData(0, CatalogQuery.MaxPageSize + 1, "pageSize")]
    [InlineData(int.MaxValue / 10, 11, "pageIndex")]
    public void Paging_out_of_range_is_refused_naming_the_parameter(int pageIndex, int pageSize, string field) =>
        Assert.Equal([field], new CatalogQuery(PageIndex: pageIndex, PageSize: pageSize).Validate().Keys);

    [Fact]
    public void An_unknown_sort_is_refused_listing_the_known_ones()
    {
        var errors = new CatalogQuery(Sort: "popularity").Validate();

        var message = Assert.Single(errors["sort"]);
        Assert.Contains("price_desc", message);
    }

    [Fact]
    public void Relevance_without_a_search_is_refused() =>
        Assert.Equal(["sort"], new CatalogQuery(Sort: "relevance").Validate().Keys);

    [Theory]
    [InlineData(-0.01, null, "minPrice")]
    [InlineData(null, -5.0, "maxPrice")]
    [InlineData(50.0, 10.0, "maxPrice")]
    public void Negative_or_inverted_price_ranges_are_refused(double? min, double? max, string field) =>
        Assert.Equal([field], new CatalogQuery(MinPrice: (decimal?)min, MaxPrice: (decimal?)max).Validate().Keys);

    [Theory]
    [InlineData(0, "brandId")]
    [InlineData(-3, "brandId")]
    public void Non_positive_brand_ids_are_refused(int brandId, string field) =>
        Assert.Equal([field], new CatalogQuery(BrandId: brandId).Validate().Keys);

    [Fact]
    public void A_search_without_letters_or_digits_is_refused() =>
        Assert.Equal(["search"], new CatalogQuery(Search: "!!! ???").Validate().Keys);

    [Fact]
    public void An_overlong_search_is_refused() =>
        Assert.Equal(["search"], new CatalogQuery(Search: new string('a', CatalogQuery.MaxSearchLength + 1)).Validate().Keys);

    [Fact]
    public void Every_wrong_parameter_is_reported_at_once()
    {
        var errors = new CatalogQuery(MinPrice: -1, Sort: "x", PageIndex: -1, PageSize: 0).Validate();

        Assert.Equal(["minPrice", "pageIndex", "pageSize", "sort"], errors.Keys.Order());
    }

    [Fact]
    public void Queries_selecting_the_same_page_share_a_cache_key()
    {
        var a = new CatalogQuery(Search: "  Down   JACKET ", MinPrice: 10m, Sort: null);
        var b = new CatalogQuery(Search: "down jacket", MinPrice: 10.00m, Sort: "relevance");

        Assert.Equal(a.CacheKey(), b.CacheKey());
    }

    [Fact]
    public void Different_pages_filters_and_orders_have_different_cache_keys()
    {
        var keys = new[]
        {
            new CatalogQuery().CacheKey(),
            new CatalogQuery(PageIndex: 1).CacheKey(),
            new CatalogQuery(PageSize: 20).CacheKey(),
            new CatalogQuery(BrandId: 1).CacheKey(),
            new CatalogQuery(CategoryId: 1).CacheKey(),
            new CatalogQuery(MinPrice: 1).CacheKey(),
            new CatalogQuery(MaxPrice: 1).CacheKey(),
            new CatalogQuery(Sort: "price").CacheKey(),
            new CatalogQuery(Search: "tent").CacheKey(),
        };

        Assert.Equal(keys.Length, keys.Distinct().Count());
    }
}
