using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests;

/// <summary>
/// Text with a NUL never reaches a service's handlers (AddUnstorableTextRefusal): a tester's product name with one was
/// refused by PostgreSQL, and that failure, on the execution at which Npgsql auto-prepared the insert, broke the next
/// request on the pooled connection with a 500. Each case is a 400 problem naming where the NUL was; a handler that ran
/// counts a call.
/// </summary>
public sealed class UnstorableTextTests : StartedAppTests
{
    private int _handled;

    protected override WebApplication CreateApp() => KestrelApps.CreateSlim(
        app =>
        {
            app.UseExceptionHandler();
            app.MapPost("/notes", (Note note) => Handled(note.Text));
            app.MapPost("/tags", (Dictionary<string, int> tags) => Handled(string.Join(',', tags.Keys)));
            app.MapGet("/search", (string? q) => Handled(q ?? ""));
            app.MapPost("/form", (HttpRequest request) => Handled(request.Form["name"].ToString())).DisableAntiforgery();
        },
        builder =>
        {
            builder.AddDefaultProblemDetails().AddUnstorableTextRefusal();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024);
        });

    [Theory]
    [InlineData("""{"text":"Re\u0000pro","tags":["a"]}""", "$.text")]
    [InlineData("""{"text":"ok","tags":["a","b\u0000"]}""", "$.tags[1]")]
    public async Task A_json_string_with_a_nul_is_a_400_naming_its_path(string body, string path)
    {
        using var response = await Client.PostAsync("/notes", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await AssertRefusedAsync(response);
        Assert.Equal($"The value at '{path}' contains a NUL character (U+0000). Text may not contain the NUL character (U+0000).", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_json_property_name_with_a_nul_is_refused_too()
    {
        using var response = await Client.PostAsync("/tags", new StringContent("""{"a\u0000":1}""", Encoding.UTF8, "application/json"));

        await AssertRefusedAsync(response);
    }

    [Fact]
    public async Task A_query_value_with_a_nul_is_a_400_naming_the_parameter()
    {
        using var response = await Client.GetAsync("/search?page=2&q=tent%00");

        var problem = await AssertRefusedAsync(response);
        Assert.Equal("The parameter 'q' contains a NUL character (U+0000). Text may not contain the NUL character (U+0000).", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_form_value_with_a_nul_is_a_400_saying_the_form_cannot_be_read()
    {
        using var response = await Client.PostAsync("/form", new FormUrlEncodedContent([new("name", "Re\0pro")]));

        // ASP.NET Core's form reader refuses the NUL itself; what it throws was a 500 wherever a handler read the form.
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The form could not be read.", problem.GetProperty("title").GetString());
        Assert.Equal("The form value contains invalid characters.", problem.GetProperty("detail").GetString());
        Assert.Equal(0, _handled);
    }

    [Fact]
    public async Task Text_without_a_nul_passes_everywhere_even_with_other_control_characters_and_a_literal_percent_00()
    {
        using var json = await Client.PostAsync("/notes", new StringContent("""{"text":"tab\there","tags":["\u0001"]}""", Encoding.UTF8, "application/json"));
        using var query = await Client.GetAsync("/search?q=100%2500");
        using var form = await Client.PostAsync("/form", new FormUrlEncodedContent([new("name", "100%00")]));

        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("tab\there", await json.Content.ReadAsStringAsync());
        Assert.Equal("100%00", await query.Content.ReadAsStringAsync());
        Assert.Equal("100%00", await form.Content.ReadAsStringAsync());
        Assert.Equal(3, _handled);
    }

    [Fact]
    public async Task A_form_over_the_servers_body_limit_keeps_its_413()
    {
        using var response = await Client.PostAsync("/form", new FormUrlEncodedContent([new("name", new string('a', 4096))]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    private string Handled(string text)
    {
        Interlocked.Increment(ref _handled);
        return text;
    }

    private async Task<JsonElement> AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The request contains text that cannot be stored.", problem.GetProperty("title").GetString());
        Assert.Equal(0, _handled);
        return problem;
    }

    private sealed record Note(string Text, string[] Tags);
}
