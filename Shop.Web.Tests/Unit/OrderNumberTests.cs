using Shop.Web.Components;

namespace Shop.Web.Tests.Unit;

/// <summary>The short order number shoppers see and quote (<see cref="Formats.OrderNumber"/>).</summary>
public class OrderNumberTests
{
    [Fact]
    public void Orders_placed_in_the_same_millisecond_get_different_numbers()
    {
        var placedAt = DateTimeOffset.Parse("2026-12-07T13:08:40.123Z", System.Globalization.CultureInfo.InvariantCulture);
        var ids = Enumerable.Range(0, 1000).Select(_ => Guid.CreateVersion7(placedAt)).ToList();

        var numbers = ids.Select(Formats.OrderNumber).ToList();

        Assert.Equal(ids.Count, numbers.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void An_order_number_is_the_random_tail_of_the_order_id_in_capitals()
    {
        var number = Formats.OrderNumber(Guid.Parse("019af8c2-3b1e-7c4d-9a2f-5e6b7c8d9e0f"));

        Assert.Equal("6B7C8D9E0F", number);
    }
}
