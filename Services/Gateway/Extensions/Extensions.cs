namespace Gateway.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddDefaultProblemDetails();

        // Routes and clusters come from the "ReverseProxy" section; cluster destinations name services
        // (http://products), which service discovery turns into the addresses the AppHost gave this process.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();

        return builder;
    }

    /// <summary>Anything no route claims gets a 404 problem instead of an empty response.</summary>
    public static IEndpointRouteBuilder MapUnknownRoutes(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapFallback("{**path}", (HttpContext context) => TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "No route matches this request.",
                detail: $"The gateway has no route for {context.Request.Method} {context.Request.Path}."))
            .WithName("UnknownRoute")
            .ExcludeFromDescription();

        return app;
    }
}
