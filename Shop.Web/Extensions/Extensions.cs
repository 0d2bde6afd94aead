using Shop.Web.Authentication;
using Shop.Web.Services;

namespace Shop.Web.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents();

        builder.AddStorefrontAuthentication();

        // The storefront talks to the gateway only; service discovery resolves http://gateway. Calls carry the
        // visitor's access token when they are signed in.
        builder.Services.AddTransient<GatewayRequestHandler>();
        builder.Services.AddHttpClient<CatalogService>(http => http.BaseAddress = CatalogService.GatewayAddress)
            .AddHttpMessageHandler<GatewayRequestHandler>();
        builder.Services.AddHttpClient<ProfileService>(http => http.BaseAddress = CatalogService.GatewayAddress)
            .AddHttpMessageHandler<GatewayRequestHandler>();

        return builder;
    }
}
