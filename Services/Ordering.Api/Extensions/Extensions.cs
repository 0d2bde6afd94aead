using Ordering.Api.Infrastructure;
using Ordering.Api.Services;

namespace Ordering.Api.Extensions;

public static class Extensions
{
    /// <summary>The audience an access token must name to be accepted here.</summary>
    public const string Audience = "ordering";

    public const string DatabaseConnectionName = "orderingdb";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        // Tokens are checked here too, not only at the gateway: a request that bypasses the gateway gets no more.
        builder.AddDefaultAuthentication(Audience);

        builder.AddNpgsqlDbContext<OrderingContext>(DatabaseConnectionName);
        builder.Services.AddMigration<OrderingContext>();

        builder.Services.AddHttpClient<ProductsClient>(http => http.BaseAddress = ProductsClient.BaseAddress);

        return builder;
    }
}
