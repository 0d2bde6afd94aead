using System.ComponentModel;

namespace Products.Api.Model;

/// <summary>One page of a listing and the number of items in the whole listing.</summary>
/// <remarks>Immutable, so HybridCache hands out the cached instance instead of deserializing a copy per read.</remarks>
[ImmutableObject(true)]
public sealed record PaginatedItems<TItem>(int PageIndex, int PageSize, long Count, IReadOnlyList<TItem> Data);
