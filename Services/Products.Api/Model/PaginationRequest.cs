namespace Products.Api.Model;

/// <summary>Zero-based page of a listing, as read from the query string.</summary>
public sealed record PaginationRequest(int PageIndex = 0, int PageSize = PaginationRequest.DefaultPageSize)
{
    public const int DefaultPageSize = 10;
    public const int MaxPageSize = 100;

    /// <summary>The problems with this request, keyed by query parameter; empty when it is valid.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (PageIndex < 0)
        {
            errors["pageIndex"] = ["pageIndex must be 0 or greater."];
        }
        else if ((long)PageIndex * Math.Max(PageSize, 1) > int.MaxValue)
        {
            errors["pageIndex"] = ["pageIndex is past any possible page."];
        }

        if (PageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."];
        }

        return errors;
    }
}
