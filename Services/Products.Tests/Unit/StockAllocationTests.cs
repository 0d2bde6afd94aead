using Products.Api.Inventory;
using Shop.IntegrationEvents;

namespace Products.Tests.Unit;

public class StockAllocationTests
{
    private static readonly Dictionary<int, int> Stock = new() { [1] = 5, [2] = 1, [3] = 0 };

    [Fact]
    public void Every_line_available_reserves_every_line()
    {
        var decision = StockAllocation.Decide([new OrderLine(2, 1, 10m), new OrderLine(1, 5, 3m)], Stock);

        var reserve = Assert.IsType<AllocationDecision.Reserve>(decision);
        Assert.Equal([new KeyValuePair<int, int>(1, 5), new KeyValuePair<int, int>(2, 1)], reserve.Quantities);
    }

    [Fact]
    public void One_short_line_rejects_the_whole_order_naming_only_what_is_missing()
    {
        var decision = StockAllocation.Decide([new OrderLine(1, 2, 3m), new OrderLine(2, 2, 10m)], Stock);

        var reject = Assert.IsType<AllocationDecision.Reject>(decision);
        Assert.Equal([new RejectedLine(2, 2, 1)], reject.Lines);
    }

    [Fact]
    public void Lines_of_the_same_product_are_added_up_before_checking()
    {
        var decision = StockAllocation.Decide([new OrderLine(1, 3, 3m), new OrderLine(1, 3, 3m)], Stock);

        Assert.Equal([new RejectedLine(1, 6, 5)], Assert.IsType<AllocationDecision.Reject>(decision).Lines);
    }

    [Fact]
    public void Unknown_products_have_nothing_available()
    {
        var decision = StockAllocation.Decide([new OrderLine(99, 1, 1m)], Stock);

        Assert.Equal([new RejectedLine(99, 1, 0)], Assert.IsType<AllocationDecision.Reject>(decision).Lines);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void A_non_positive_quantity_is_never_reserved(int quantity)
    {
        var decision = StockAllocation.Decide([new OrderLine(1, 1, 3m), new OrderLine(1, quantity, 3m)], Stock);

        Assert.Equal([new RejectedLine(1, quantity, 5)], Assert.IsType<AllocationDecision.Reject>(decision).Lines);
    }

    [Fact]
    public void An_order_without_lines_reserves_nothing() =>
        Assert.Empty(Assert.IsType<AllocationDecision.Reject>(StockAllocation.Decide([], Stock)).Lines);

    [Fact]
    public void Quantities_that_add_up_past_int_range_are_rejected_not_overflowed()
    {
        var decision = StockAllocation.Decide([new OrderLine(1, int.MaxValue, 1m), new OrderLine(1, int.MaxValue, 1m)], Stock);

        Assert.Equal([new RejectedLine(1, int.MaxValue, 5)], Assert.IsType<AllocationDecision.Reject>(decision).Lines);
    }
}
