using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Refuses the NUL character (U+0000) where requests carry text (JSON bodies, query strings, form posts) before any
/// handler runs. No PostgreSQL text column can hold it, and letting the database refuse it is not harmless: a statement
/// that fails on the execution at which Npgsql prepares it automatically leaves the prepared statement broken after
/// the rollback (npgsql/npgsql#6391), so the next request on that pooled connection failed with a 500 ("unexpected
/// backend message DataRow"). A tester's product name with a NUL did exactly that. The database's own refusal stays
/// mapped to a 400 (<see cref="ProblemDetailsExtensions.FindUnstorableText"/>) for text from anywhere else.
/// </summary>
public static class UnstorableText
{
    /// <summary>
    /// For a service that stores what it is sent: JSON strings, query strings and form posts with a NUL get a 400
    /// problem naming where it was. Not for the gateway, which forwards bodies it must not read.
    /// </summary>
    public static TBuilder AddUnstorableTextRefusal<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringConverter()));
        builder.Services.AddTransient<IStartupFilter, StartupFilter>();
        return builder;
    }

    public const string Title = "The request contains text that cannot be stored.";

    public const string Rule = "Text may not contain the NUL character (U+0000).";

    /// <summary>Whether <paramref name="value"/> holds a NUL character.</summary>
    public static bool Contains(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal);

    /// <summary>JSON strings (values and property names) with a NUL are a <see cref="JsonException"/> naming their path.</summary>
    internal sealed class JsonStringConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Checked(reader.GetString());

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Checked(reader.GetString())!;

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WritePropertyName(value);

        private static string? Checked(string? value) => Contains(value) ? throw new NulCharacterException() : value;
    }

    /// <summary>A JSON string with a NUL; System.Text.Json adds the path of the value when it passes it on.</summary>
    internal sealed class NulCharacterException() : JsonException(Rule);

    /// <summary>
    /// Runs first in every pipeline: a query string with a NUL gets a 400 problem naming the parameter, and no handler
    /// sees it. A form post with one is refused by ASP.NET Core's form reader (<see cref="InvalidDataException"/>),
    /// which became a 500 wherever a handler read the form; here it is a 400 problem with the reader's message, as is
    /// a form over the reader's limits. (Kestrel already refuses a NUL in the path.)
    /// </summary>
    internal sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (await FindProblemAsync(context.Request) is { } problem)
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = { Status = StatusCodes.Status400BadRequest, Title = problem.Title, Detail = problem.Detail },
                    });
                    return;
                }

                await nextMiddleware(context);
            });
            next(app);
        };

        private static async Task<(string Title, string Detail)?> FindProblemAsync(HttpRequest request)
        {
            // A NUL can only come escaped (Kestrel refuses raw control bytes), so most queries are passed at a glance.
            if (request.QueryString.Value is { } query && query.Contains("%00", StringComparison.Ordinal))
            {
                foreach (var (name, values) in request.Query)
                {
                    if (Contains(name) || values.Any(Contains))
                    {
                        return (Title, $"The parameter '{name.Replace('\0', '\uFFFD')}' contains a NUL character (U+0000). {Rule}");
                    }
                }
            }

            if (request.HasFormContentType)
            {
                try
                {
                    // Read once here; the handler gets the same parsed form.
                    await request.ReadFormAsync(request.HttpContext.RequestAborted);
                }
                catch (InvalidDataException exception)
                {
                    return ("The form could not be read.", exception.Message);
                }
            }

            return null;
        }
    }
}
