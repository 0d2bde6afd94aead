namespace Shop.IntegrationEvents;

/// <summary>The topics of Shop's event streams.</summary>
public static class Topics
{
    public const string Orders = "ordering.orders";
    public const string Stock = "products.stock";
    public const string Catalog = "products.catalog";
    public const string Payments = "payment.payments";
}
