using Payment.Api.Infrastructure;

namespace Payment.Api.Extensions;

public static class Extensions
{
    /// <summary>The audience an access token must name to be accepted here.</summary>
    public const string Audience = "payment";

    public const string DatabaseConnectionName = "paymentdb";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        // Tokens are checked here too, not only at the gateway: a request that bypasses the gateway gets no more.
        builder.AddDefaultAuthentication(Audience);

        builder.AddNpgsqlDbContext<PaymentContext>(DatabaseConnectionName);
        builder.Services.AddMigration<PaymentContext>();

        return builder;
    }
}
