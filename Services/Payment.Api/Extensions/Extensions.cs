using Payment.Api.Infrastructure;

namespace Payment.Api.Extensions;

public static class Extensions
{
    public const string DatabaseConnectionName = "paymentdb";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        builder.AddNpgsqlDbContext<PaymentContext>(DatabaseConnectionName);
        builder.Services.AddMigration<PaymentContext>();

        return builder;
    }
}
