namespace Products.Api.Model;

public sealed record PaginatedItems<TItem>(int PageIndex, int PageSize, long Count, IReadOnlyList<TItem> Data);
