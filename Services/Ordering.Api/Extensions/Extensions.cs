using Ordering.Api.Infrastructure;
using Ordering.Api.Services;

namespace Ordering.Api.Extensions;

public static class Extensions
{
    public const string DatabaseConnectionName = "orderingdb";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        builder.AddNpgsqlDbContext<OrderingContext>(DatabaseConnectionName);
        builder.Services.AddMigration<OrderingContext>();

        builder.Services.AddHttpClient<ProductsClient>(http => http.BaseAddress = ProductsClient.BaseAddress);

        return builder;
    }
}
