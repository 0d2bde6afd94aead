using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

public class ApiProblemTests
{
    private static async Task<ApiProblem> ReadAsync(HttpStatusCode status, string? json, TimeSpan? retryAfter = null)
    {
        using var response = new HttpResponseMessage(status);
        if (json is not null)
        {
            response.Content = new StringContent(json, Encoding.UTF8, "application/problem+json");
        }

        if (retryAfter is { } delta)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(delta);
        }

        return await ApiProblem.ReadAsync(response);
    }

    [Fact]
    public async Task Validation_problems_are_shown_as_the_services_own_sentences()
    {
        var problem = await ReadAsync(HttpStatusCode.BadRequest,
            """{"title":"The order has invalid items.","status":400,"errors":{"items[0].productId":["Product 5 does not exist."],"items[1].quantity":["Quantity must be between 1 and 1000; got 0."]}}""");

        Assert.Equal("Product 5 does not exist. Quantity must be between 1 and 1000; got 0.", problem.Message("Ordering"));
    }

    [Fact]
    public async Task A_conflict_says_what_the_service_said()
    {
        var problem = await ReadAsync(HttpStatusCode.Conflict,
            """{"title":"The order can no longer be cancelled.","status":409,"detail":"Order 1 is Confirmed: only orders not yet paid for can be cancelled."}""");

        Assert.Equal("Order 1 is Confirmed: only orders not yet paid for can be cancelled.", problem.Message("Ordering"));
    }

    [Fact]
    public async Task Too_many_requests_says_when_to_try_again()
    {
        var problem = await ReadAsync(HttpStatusCode.TooManyRequests, """{"title":"Too many requests.","status":429}""", TimeSpan.FromSeconds(7));

        Assert.Equal("You're going a little fast. Please try again in 7 seconds.", problem.Message("The catalog"));
    }

    [Fact]
    public async Task An_unavailable_service_is_named_and_its_advice_kept()
    {
        var problem = await ReadAsync(HttpStatusCode.ServiceUnavailable,
            """{"title":"The product catalog is unavailable.","status":503,"detail":"Retry with the same Idempotency-Key."}""");

        Assert.Equal("Ordering is unavailable right now. Please try again in a moment. Retry with the same Idempotency-Key.", problem.Message("Ordering"));
    }

    [Fact]
    public async Task An_unavailable_service_that_says_when_to_retry_is_quoted()
    {
        var problem = await ReadAsync(HttpStatusCode.ServiceUnavailable,
            """{"title":"The product catalog is unavailable.","status":503,"detail":"Retry with the same Idempotency-Key."}""", TimeSpan.FromSeconds(5));

        Assert.Equal("Ordering is unavailable right now. Please try again in 5 seconds. Retry with the same Idempotency-Key.", problem.Message("Ordering"));
    }

    [Fact]
    public async Task A_failure_without_a_problem_body_still_gets_a_sentence()
    {
        var gatewayDown = await ReadAsync(HttpStatusCode.BadGateway, json: null);
        var expired = await ReadAsync(HttpStatusCode.Unauthorized, json: null);

        Assert.Equal("Ordering is unavailable right now. Please try again in a moment.", gatewayDown.Message("Ordering"));
        Assert.Equal("Your session has expired. Please sign in again.", expired.Message("Ordering"));
        Assert.Equal("Ordering is unavailable right now. Please try again in a moment.", ApiProblem.NoAnswer.Message("Ordering"));
    }
}
