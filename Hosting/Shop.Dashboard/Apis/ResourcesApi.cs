using Microsoft.AspNetCore.Http.HttpResults;
using Shop.Dashboard.Authentication;
using Shop.Dashboard.Contracts;
using Shop.Dashboard.ResourceService;

namespace Shop.Dashboard.Apis;

/// <summary>The resource service's view of the application, as the dashboard last received it.</summary>
public static class ResourcesApi
{
    public static IEndpointRouteBuilder MapResourcesApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        endpoints.MapGroup("api/resources")
            .WithTags("Resources")
            .RequireAuthorization(DashboardAuthenticationDefaults.Policy)
            .MapGet("", GetResources)
            .WithName("GetResources")
            .WithSummary("Resources reported by the AppHost's resource service (404 when the dashboard runs standalone).");

        return endpoints;
    }

    private static Results<Ok<ResourceSnapshot[]>, ProblemHttpResult> GetResources(ResourceStateStore store) =>
        store.Connection == ResourceServiceConnection.NotConfigured
            ? TypedResults.Problem("The dashboard runs standalone: no resource service is configured.", statusCode: StatusCodes.Status404NotFound, title: "No resource service")
            : TypedResults.Ok(store.Resources.ToArray());
}
