namespace Ordering.Api.Services;

/// <summary>Settings of the <c>Ordering</c> configuration section.</summary>
public sealed class OrderingOptions
{
    public const string SectionName = "Ordering";

    /// <summary>ISO 4217 code of every order's prices: the catalog has one currency.</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>
    /// Order status streams one buyer may have open at once on one replica (<see cref="OrderStreamSlots"/>): a few
    /// pages following orders, in a few tabs. Beyond it a stream is refused with 429.
    /// </summary>
    public int MaxStreamsPerBuyer { get; set; } = 8;
}
