namespace Identity.Api.Configuration;

/// <summary>
/// One scope per API, each granting an access token whose audience (<c>aud</c>) is that API: a token asked for
/// the catalog only is refused by ordering.
/// </summary>
public static class ShopScopes
{
    public const string Products = "products";
    public const string Ordering = "ordering";
    public const string Payment = "payment";
    public const string Identity = "identity";

    public static readonly IReadOnlyList<string> Apis = [Products, Ordering, Payment, Identity];
}
