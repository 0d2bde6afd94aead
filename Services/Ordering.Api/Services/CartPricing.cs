using System.Diagnostics.CodeAnalysis;
using Ordering.Api.Model;

namespace Ordering.Api.Services;

/// <summary>Checks a cart (for a quote or an order) and prices it with the catalog's current prices.</summary>
public static class CartPricing
{
    /// <summary>Bounded so one request stays one catalog lookup.</summary>
    public const int MaxItems = 100;

    /// <summary>Per line; more than this is a mistake or abuse, not a purchase.</summary>
    public const int MaxQuantity = 1000;

    /// <summary>The problems with the cart, keyed by JSON path; empty when it can be priced.</summary>
    /// <param name="what">What the cart is for, as the messages name it: "quote" or "order".</param>
    public static Dictionary<string, string[]> Validate(IReadOnlyList<CartItem>? items, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);

        var article = "aeiou".Contains(char.ToLowerInvariant(what[0])) ? "An" : "A";
        var errors = new Dictionary<string, string[]>();
        if (items is not { Count: > 0 })
        {
            errors["items"] = [$"{article} {what} needs at least one item."];
            return errors;
        }

        if (items.Count > MaxItems)
        {
            errors["items"] = [$"{article} {what} can have at most {MaxItems} items; this one has {items.Count}."];
            return errors;
        }

        var seen = new HashSet<int>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not { } item)
            {
                errors[$"items[{i}]"] = ["An item cannot be null."];
                continue;
            }

            if (item.ProductId <= 0)
            {
                errors[$"items[{i}].productId"] = [$"Product id must be a positive number; got {item.ProductId}."];
            }
            else if (!seen.Add(item.ProductId))
            {
                errors[$"items[{i}].productId"] = [$"Product {item.ProductId} appears more than once; put its whole quantity in one item."];
            }

            if (item.Quantity is <= 0 or > MaxQuantity)
            {
                errors[$"items[{i}].quantity"] = [$"Quantity must be between 1 and {MaxQuantity}; got {item.Quantity}."];
            }
        }

        return errors;
    }

    /// <summary>
    /// Prices validated <paramref name="items"/> with <paramref name="products"/>; fails, naming each item, when
    /// an item's product is not in the catalog.
    /// </summary>
    public static bool TryPrice(
        IReadOnlyList<CartItem> items,
        IEnumerable<CatalogProduct> products,
        [NotNullWhen(true)] out Quote? quote,
        out Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(products);

        var catalog = products.ToDictionary(p => p.Id);
        var lines = new List<QuoteLine>(items.Count);
        errors = [];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (!catalog.TryGetValue(item.ProductId, out var product))
            {
                errors[$"items[{i}].productId"] = [$"Product {item.ProductId} does not exist."];
                continue;
            }

            lines.Add(new QuoteLine(product.Id, product.Name, product.Price, item.Quantity, product.Price * item.Quantity));
        }

        quote = errors.Count == 0 ? new Quote(lines, lines.Sum(l => l.LineTotal)) : null;
        return quote is not null;
    }
}
