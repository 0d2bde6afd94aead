using Shop.IntegrationEvents;

namespace Products.Api.Inventory;

/// <summary>The decision for an order: every line can be held (with the units per product), or what is missing.</summary>
public abstract record AllocationDecision
{
    private AllocationDecision()
    {
    }

    /// <summary>Units to hold per product id, ascending; duplicate lines of a product are added up.</summary>
    public sealed record Reserve(IReadOnlyDictionary<int, int> Quantities) : AllocationDecision;

    /// <summary>The lines that cannot be held; an order with none of its lines holdable is rejected whole.</summary>
    public sealed record Reject(IReadOnlyList<RejectedLine> Lines) : AllocationDecision;
}

/// <summary>All-or-nothing: an order is reserved only if every one of its lines can be, against the same stock snapshot.</summary>
public static class StockAllocation
{
    /// <param name="available">Available units per product that can be sold; a product missing here (unknown or deleted) has none.</param>
    public static AllocationDecision Decide(IReadOnlyList<OrderLine> lines, IReadOnlyDictionary<int, int> available)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(available);

        var rejected = new List<RejectedLine>();
        var requested = new SortedDictionary<int, long>();
        foreach (var line in lines)
        {
            if (line.Quantity <= 0)
            {
                // Ordering refuses these; one that arrives anyway must not turn into a negative reservation.
                rejected.Add(new RejectedLine(line.ProductId, line.Quantity, available.GetValueOrDefault(line.ProductId)));
                continue;
            }

            requested[line.ProductId] = requested.GetValueOrDefault(line.ProductId) + line.Quantity;
        }

        foreach (var (productId, quantity) in requested)
        {
            var units = available.GetValueOrDefault(productId);
            if (units < quantity)
            {
                rejected.Add(new RejectedLine(productId, (int)Math.Min(quantity, int.MaxValue), units));
            }
        }

        if (rejected.Count > 0 || requested.Count == 0)
        {
            return new AllocationDecision.Reject(rejected);
        }

        return new AllocationDecision.Reserve(new SortedDictionary<int, int>(requested.ToDictionary(r => r.Key, r => (int)r.Value)));
    }
}
