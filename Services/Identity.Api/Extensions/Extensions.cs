using Identity.Api.Infrastructure;
using Identity.Api.Model;

namespace Identity.Api.Extensions;

public static class Extensions
{
    public const string DatabaseConnectionName = "identitydb";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        builder.AddNpgsqlDbContext<ApplicationDbContext>(DatabaseConnectionName);
        builder.Services.AddMigration<ApplicationDbContext>();

        builder.Services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                // The user name is the e-mail address, which Identity validates as one; the default
                // character list would refuse valid addresses such as o'neil@example.com.
                options.User.AllowedUserNameCharacters = string.Empty;
                options.Password.RequiredLength = 8;
            })
            .AddEntityFrameworkStores<ApplicationDbContext>();

        return builder;
    }
}
