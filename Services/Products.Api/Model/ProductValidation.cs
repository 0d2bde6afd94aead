using Shop.ServiceDefaults;

namespace Products.Api.Model;

/// <summary>The rules for admin input; errors are keyed by the JSON field they concern.</summary>
public static class ProductValidation
{
    public const decimal MaxPrice = 1_000_000m;
    public const int MaxStock = 1_000_000;

    /// <summary>
    /// A valid price as the column keeps it (two decimal places): what the answer to a change shows is what every later
    /// read shows. JSON's 12.50000000000000000000000000001 reads as a decimal of 27 places equal to 12.5, valid, and
    /// would otherwise be echoed as such.
    /// </summary>
    public static decimal AsStoredPrice(decimal price) => decimal.Round(price, 2) + 0.00m;

    public static Dictionary<string, string[]> ValidateDetails(string? name, string? description, decimal? price, int? brandId, int? categoryId)
    {
        var errors = new Dictionary<string, string[]>();
        if (VisibleText.IsBlank(name))
        {
            errors["name"] = ["name is required."];
        }
        else if (name.Trim().Length > Product.NameMaxLength)
        {
            errors["name"] = [$"name must be at most {Product.NameMaxLength} characters."];
        }

        if (description is { Length: > Product.DescriptionMaxLength })
        {
            errors["description"] = [$"description must be at most {Product.DescriptionMaxLength} characters."];
        }

        if (price is null)
        {
            errors["price"] = ["price is required."];
        }
        else if (price <= 0 || price > MaxPrice)
        {
            errors["price"] = [$"price must be greater than 0 and at most {MaxPrice:0}."];
        }
        else if (decimal.Round(price.Value, 2) != price.Value)
        {
            errors["price"] = ["price must have at most two decimal places."];
        }

        if (brandId is null or < 1)
        {
            errors["brandId"] = ["brandId is required: the id of an existing brand."];
        }

        if (categoryId is null or < 1)
        {
            errors["categoryId"] = ["categoryId is required: the id of an existing category."];
        }

        return errors;
    }

    public static Dictionary<string, string[]> ValidateInitialStock(int? availableStock)
    {
        var errors = new Dictionary<string, string[]>();
        if (availableStock is < 0 or > MaxStock)
        {
            errors["availableStock"] = [$"availableStock must be between 0 and {MaxStock}."];
        }

        return errors;
    }

    public static Dictionary<string, string[]> ValidateStockChange(StockChangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        var errors = new Dictionary<string, string[]>();
        switch (request)
        {
            case { AvailableStock: null, AdjustBy: null }:
                errors["availableStock"] = ["Give either availableStock (the new count) or adjustBy (units to add, or take away when negative)."];
                break;
            case { AvailableStock: not null, AdjustBy: not null }:
                errors["adjustBy"] = ["Give either availableStock or adjustBy, not both."];
                break;
            case { AvailableStock: < 0 or > MaxStock }:
                errors["availableStock"] = [$"availableStock must be between 0 and {MaxStock}."];
                break;
            case { AdjustBy: 0 or < -MaxStock or > MaxStock }:
                errors["adjustBy"] = [$"adjustBy must be a non-zero number of units between -{MaxStock} and {MaxStock}."];
                break;
        }

        return errors;
    }

    /// <summary>
    /// Whether a stock change can be made, decided on the product's locked row. The bound is on hand (available plus
    /// reserved), not available alone: reserving and releasing only move units between the two, so a release can never
    /// take a product past it (or past <see cref="int.MaxValue"/>). A change that lowers available stock is allowed
    /// even when on hand stays above the bound, so that a row left there by an older version can be brought back.
    /// </summary>
    public static StockChangeResult CheckStockChange(int available, int reserved, long newAvailable) =>
        newAvailable < 0 ? StockChangeResult.BelowZero
        : newAvailable > available && newAvailable + reserved > MaxStock ? StockChangeResult.AboveMaxStock
        : StockChangeResult.Applied;
}

public enum StockChangeResult
{
    Applied,

    /// <summary>Available stock would go below zero; nothing changed.</summary>
    BelowZero,

    /// <summary>On hand would go above <see cref="ProductValidation.MaxStock"/>; nothing changed.</summary>
    AboveMaxStock,
}
