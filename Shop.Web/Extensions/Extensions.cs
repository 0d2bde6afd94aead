using Shop.Web.Services;

namespace Shop.Web.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddRazorComponents()
            .AddInteractiveServerComponents();

        // The storefront talks to the gateway only; service discovery resolves http://gateway.
        builder.Services.AddHttpClient<CatalogService>(http => http.BaseAddress = CatalogService.GatewayAddress);

        return builder;
    }
}
