using System.Globalization;

namespace Shop.Web.Components;

/// <summary>How pages write money and times, whatever the server's culture is.</summary>
public static class Formats
{
    // The catalog's prices are in US dollars.
    private static readonly CultureInfo Dollars = CultureInfo.GetCultureInfo("en-US");

    public static string Price(decimal amount) => amount.ToString("C", Dollars);

    /// <summary>An amount in an order's currency (ISO 4217).</summary>
    public static string Money(decimal amount, string currency) =>
        string.Equals(currency, "USD", StringComparison.OrdinalIgnoreCase)
            ? Price(amount)
            : string.Create(CultureInfo.InvariantCulture, $"{amount:N2} {currency}");

    /// <summary>The server does not know the visitor's time zone, so times say they are UTC.</summary>
    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("d MMM yyyy, HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The time of day alone, where the date is shown nearby.</summary>
    public static string Clock(DateTimeOffset at) => at.ToUniversalTime().ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>
    /// An order's short number, as shoppers quote it: the last 10 hex digits of its id. Ordering's ids are UUIDv7s,
    /// whose first 12 digits are the time in milliseconds, so their start is the same for every order placed in the
    /// same minute; their tail is random. 40 random bits leave one buyer's thousands of orders practically unique.
    /// </summary>
    public static string OrderNumber(Guid id) => id.ToString("N")[^OrderNumberLength..].ToUpperInvariant();

    private const int OrderNumberLength = 10;
}
