using Products.Api.Model;

namespace Products.Tests.Unit;

public class ProductValidationTests
{
    [Fact]
    public void A_complete_product_is_valid() =>
        Assert.Empty(ProductValidation.ValidateDetails("Tent", "Roomy.", 199.99m, 1, 2));

    [Fact]
    public void Missing_fields_are_each_named() =>
        Assert.Equal(
            ["brandId", "categoryId", "name", "price"],
            ProductValidation.ValidateDetails(" ", null, null, null, null).Keys.Order());

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1000000.01)]
    [InlineData(9.999)]
    public void Prices_must_be_positive_bounded_and_in_cents(double price) =>
        Assert.Equal(["price"], ProductValidation.ValidateDetails("Tent", null, (decimal)price, 1, 1).Keys);

    [Theory]
    [InlineData("\u200b")]
    [InlineData("\u2060\ufeff ")]
    [InlineData("\u3164")]
    public void A_name_that_shows_nothing_is_missing(string name) =>
        Assert.Equal(["name is required."], ProductValidation.ValidateDetails(name, null, 1m, 1, 1)["name"]);

    [Theory]
    [InlineData("12.5", "12.50")]
    [InlineData("12.500000000000000000000000000", "12.50")]
    [InlineData("7", "7.00")]
    [InlineData("0.01", "0.01")]
    public void A_valid_price_is_kept_with_the_two_places_the_column_stores(string sent, string stored) =>
        Assert.Equal(stored, ProductValidation.AsStoredPrice(decimal.Parse(sent, System.Globalization.CultureInfo.InvariantCulture))
            .ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Names_and_descriptions_have_length_limits() =>
        Assert.Equal(
            ["description", "name"],
            ProductValidation.ValidateDetails(new string('n', 101), new string('d', 2001), 1m, 1, 1).Keys.Order());

    [Theory]
    [InlineData(-1)]
    [InlineData(ProductValidation.MaxStock + 1)]
    public void Initial_stock_must_be_in_range(int stock) =>
        Assert.Equal(["availableStock"], ProductValidation.ValidateInitialStock(stock).Keys);

    [Theory]
    [InlineData(null, null, "availableStock")]
    [InlineData(5, 1, "adjustBy")]
    [InlineData(-1, null, "availableStock")]
    [InlineData(null, 0, "adjustBy")]
    [InlineData(null, -ProductValidation.MaxStock - 1, "adjustBy")]
    public void A_stock_change_is_either_a_count_or_a_non_zero_adjustment(int? available, int? adjustBy, string field) =>
        Assert.Equal([field], ProductValidation.ValidateStockChange(new StockChangeRequest(available, adjustBy)).Keys);

    [Theory]
    [InlineData(0, null)]
    [InlineData(null, -3)]
    [InlineData(null, 12)]
    public void Valid_stock_changes_pass(int? available, int? adjustBy) =>
        Assert.Empty(ProductValidation.ValidateStockChange(new StockChangeRequest(available, adjustBy)));

    [Theory]
    [InlineData(1_000_000, 0, 2_000_000)]
    [InlineData(1_000_000, 0, 1_000_001)]
    [InlineData(999_995, 5, 1_000_000)]
    [InlineData(0, 1_000_000, 1)]
    [InlineData(int.MaxValue, 0, (long)int.MaxValue + 1)]
    public void Stock_cannot_rise_above_the_maximum_on_hand_counting_reserved_units(int available, int reserved, long newAvailable) =>
        Assert.Equal(StockChangeResult.AboveMaxStock, ProductValidation.CheckStockChange(available, reserved, newAvailable));

    [Theory]
    [InlineData(999_995, 5, 999_995)]
    [InlineData(0, 5, 999_995)]
    [InlineData(1_000_000, 0, 0)]
    [InlineData(int.MaxValue, 5, 2_000_000)]
    public void Stock_may_rise_to_the_maximum_on_hand_and_a_row_above_it_may_be_lowered(int available, int reserved, long newAvailable) =>
        Assert.Equal(StockChangeResult.Applied, ProductValidation.CheckStockChange(available, reserved, newAvailable));

    [Fact]
    public void Stock_cannot_go_below_zero() =>
        Assert.Equal(StockChangeResult.BelowZero, ProductValidation.CheckStockChange(3, 0, -1));
}
