namespace Ordering.Api.Services;

/// <summary>Settings of the <c>Ordering</c> configuration section.</summary>
public sealed class OrderingOptions
{
    public const string SectionName = "Ordering";

    /// <summary>ISO 4217 code of every order's prices: the catalog has one currency.</summary>
    public string Currency { get; set; } = "USD";
}
