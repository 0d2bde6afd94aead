using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>The error responses every Shop service gets from AddDefaultProblemDetails, on a real Kestrel server.</summary>
public sealed class ProblemDetailsTests : StartedAppTests
{
    protected override WebApplication CreateApp() => KestrelApps.CreateSlim(
        app =>
        {
            app.UseExceptionHandler();
            app.MapGet("/database-unreachable", string () => throw new FakeDbException("Failed to connect to 127.0.0.1:5432", transient: true));
            // EF Core's execution strategy wraps a transient failure it does not retry.
            app.MapGet("/database-unreachable-through-ef", string () => throw new InvalidOperationException(
                "An exception has been raised that is likely due to a transient failure.",
                new FakeDbException("The connection pool has been exhausted", transient: true)));
            app.MapGet("/database-refused-the-statement", string () => throw new FakeDbException("column \"x\" does not exist", transient: false));
            app.MapGet("/bug", string () => throw new InvalidOperationException("a bug"));
            // EF Core wraps what PostgreSQL refuses in a save in a DbUpdateException; 22021 is a NUL in text.
            app.MapGet("/database-refused-the-text", string () => throw new InvalidOperationException(
                "An error occurred while saving the entity changes.",
                new FakeDbException("invalid byte sequence for encoding \"UTF8\": 0x00", transient: false, sqlState: "22021")));
            app.MapPost("/notes", (Note note) => note.Text);
            app.MapPost("/lines", (Line line) => line.Quantity * line.Price);
        },
        builder => builder.AddDefaultProblemDetails());

    [Theory]
    [InlineData("/database-unreachable")]
    [InlineData("/database-unreachable-through-ef")]
    public async Task A_transient_database_failure_is_a_503_problem_with_retry_after(string path)
    {
        using var response = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(ProblemDetailsExtensions.UnavailableRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal("The service's database is unavailable.", problem.GetProperty("title").GetString());
        // The driver's message stays in the log: it names the server.
        Assert.DoesNotContain("127.0.0.1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/database-refused-the-statement")]
    [InlineData("/bug")]
    public async Task Any_other_failure_stays_a_500_problem_without_its_internals(string path)
    {
        using var response = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("does not exist", body, StringComparison.Ordinal);
        Assert.DoesNotContain("a bug", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_the_database_cannot_store_is_a_400_problem_saying_why()
    {
        using var response = await Client.GetAsync("/database-refused-the-text");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The request contains text that cannot be stored.", problem.GetProperty("title").GetString());
        Assert.Equal("Text may not contain the NUL character (U+0000).", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    public async Task A_missing_body_is_a_400_problem_that_says_a_body_is_needed(string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/notes", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The request needs a JSON body, and it had none (or null).", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{ "quantity": "2", "price": 1.5 }""", "$.quantity")]
    [InlineData("""{ "quantity": 2, "price": "1.5" }""", "$.price")]
    public async Task A_number_sent_as_a_string_is_a_400_problem_naming_the_field(string body, string path)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/lines", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(path, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_property_sent_twice_is_a_400_problem_naming_it()
    {
        using var content = new StringContent("""{ "quantity": 1, "price": 1.5, "quantity": 9 }""", System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/lines", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("quantity", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Numbers_sent_as_numbers_are_read()
    {
        using var response = await Client.PostAsJsonAsync("/lines", new Line(2, 1.5m));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3.0m, await response.Content.ReadFromJsonAsync<decimal>());
    }

    private sealed record Note(string Text);

    private sealed record Line(int Quantity, decimal Price);

    private sealed class FakeDbException(string message, bool transient, string? sqlState = null) : DbException(message)
    {
        public override bool IsTransient => transient;

        public override string? SqlState => sqlState;
    }
}
