using Microsoft.AspNetCore.Http.HttpResults;
using Products.Api.Apis;
using Products.Api.Model;

namespace Products.Tests;

public class PaginationTests
{
    [Fact]
    public void Defaults_are_a_valid_first_page()
    {
        var request = new PaginationRequest();

        Assert.Equal(0, request.PageIndex);
        Assert.Equal(PaginationRequest.DefaultPageSize, request.PageSize);
        Assert.Empty(request.Validate());
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 100)]
    public void Pages_within_bounds_are_valid(int pageIndex, int pageSize) =>
        Assert.Empty(new PaginationRequest(pageIndex, pageSize).Validate());

    [Fact]
    public void Negative_page_index_is_refused_naming_pageIndex()
    {
        var errors = new PaginationRequest(-1, 10).Validate();

        var (field, messages) = Assert.Single(errors);
        Assert.Equal("pageIndex", field);
        Assert.Contains("0 or greater", Assert.Single(messages));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(PaginationRequest.MaxPageSize + 1)]
    public void Page_size_out_of_range_is_refused_naming_pageSize(int pageSize)
    {
        var errors = new PaginationRequest(0, pageSize).Validate();

        var (field, messages) = Assert.Single(errors);
        Assert.Equal("pageSize", field);
        Assert.Contains($"between 1 and {PaginationRequest.MaxPageSize}", Assert.Single(messages));
    }

    [Fact]
    public void Page_index_whose_offset_overflows_is_refused_naming_pageIndex()
    {
        var errors = new PaginationRequest(int.MaxValue / 10, 11).Validate();

        Assert.Equal(["pageIndex"], errors.Keys);
    }

    [Fact]
    public void Both_fields_wrong_reports_both()
    {
        var errors = new PaginationRequest(-1, 0).Validate();

        Assert.Equal(["pageIndex", "pageSize"], errors.Keys.Order());
    }

    [Fact]
    public async Task Invalid_paging_is_answered_with_a_validation_problem_before_any_lookup()
    {
        // No database and no cache: an invalid request must be refused without reaching either.
        var result = await ProductsApi.GetItems(new PaginationRequest(0, 0), scopes: null!, cache: null!, CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        Assert.Equal(400, problem.StatusCode);
        Assert.True(problem.ProblemDetails.Errors.ContainsKey("pageSize"));
    }

    [Fact]
    public async Task Items_by_id_without_ids_is_a_validation_problem_naming_ids()
    {
        var result = await ProductsApi.GetItemsByIds([], context: null!, CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        Assert.Equal(["ids"], problem.ProblemDetails.Errors.Keys);
    }

    [Fact]
    public async Task Items_by_id_with_too_many_ids_is_a_validation_problem()
    {
        var ids = Enumerable.Range(1, ProductsApi.MaxIdsPerRequest + 1).ToArray();

        var result = await ProductsApi.GetItemsByIds(ids, context: null!, CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        Assert.Contains($"At most {ProductsApi.MaxIdsPerRequest}", Assert.Single(problem.ProblemDetails.Errors["ids"]));
    }
}
