using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Middleware;

/// <summary>
/// Every route that needs a user also needs a token issued for the service behind it: a token asked for payment alone
/// is refused on an ordering route here rather than forwarded for ordering to refuse. A route's audience is its
/// cluster's <c>Metadata:Audience</c> (<c>ReverseProxy:Clusters:ordering:Metadata:Audience</c> = <c>ordering</c>, the
/// identity service's scope and resource of that API), next to the service's address, so a new route to a known
/// cluster needs nothing more, and a route to a cluster that names none stops the gateway at start-up. Anonymous routes
/// check nothing. The gateway's token handler accepts any of the clusters' audiences; each route then asks for its own.
/// </summary>
public static class RouteAudiences
{
    /// <summary>The cluster metadata entry naming the audience (<c>aud</c>) its service's tokens carry.</summary>
    public const string MetadataKey = "Audience";

    /// <summary>The JWT claim of the APIs a token was issued for (one claim per audience).</summary>
    public const string AudienceClaim = "aud";

    /// <summary>
    /// The audiences the clusters of <paramref name="reverseProxy"/> (the <c>ReverseProxy</c> section) name, which the
    /// token handler accepts. Read once, at start: a cluster with an audience new to a reloaded configuration has its
    /// tokens accepted after a restart (until then they get 401).
    /// </summary>
    public static string[] ReadAll(IConfigurationSection reverseProxy)
    {
        ArgumentNullException.ThrowIfNull(reverseProxy);

        var audiences = reverseProxy.GetSection("Clusters").GetChildren()
            .Select(cluster => cluster[$"Metadata:{MetadataKey}"])
            .OfType<string>()
            .Where(audience => audience.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        return audiences.Length > 0
            ? audiences
            : throw new InvalidOperationException(
                $"No cluster of '{reverseProxy.Path}' names the audience of its service's tokens: set " +
                $"'{reverseProxy.Path}:Clusters:{{cluster}}:Metadata:{MetadataKey}' (e.g. 'ordering').");
    }

    /// <summary>
    /// Refuses, at start-up and on every reload, a configuration in which a route that needs a user leads to a cluster
    /// without an audience: such a route could not be checked, and would otherwise be forwarded with any token.
    /// </summary>
    public static IReverseProxyBuilder ValidateRouteAudiences(this IReverseProxyBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        return proxy.AddConfigFilter<AudienceValidation>();
    }

    /// <summary>
    /// Adds to each route that needs a user <see cref="SignedInUserFor"/> its cluster's audience, as endpoint metadata:
    /// built once per route, and combined with the route's named policy (admin) once per endpoint by ASP.NET Core's
    /// authorization, which then leaves out the default policy of a route that names "default": this one stands for it.
    /// </summary>
    public static ReverseProxyConventionBuilder RequireRouteAudiences(this ReverseProxyConventionBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);

        return proxy.ConfigureEndpoints((endpoint, route, cluster) =>
        {
            if (AudienceOf(route, cluster) is { } audience)
            {
                endpoint.RequireAuthorization(SignedInUserFor(audience));
            }
        });
    }

    /// <summary>
    /// A signed-in user (<see cref="ShopPolicies.SignedInUser"/>, the default policy) whose token was issued for
    /// <paramref name="audience"/>. A token that fails only the audience is authentic but not for this API: 403, as for a
    /// customer on an admin route (and as RFC 6750 answers insufficient scope: the identity service's scope of that name
    /// grants the audience), with the problem body every refusal gets. A token the JWT handler refuses outright, such as
    /// one for none of the gateway's audiences, stays 401.
    /// </summary>
    public static AuthorizationPolicy SignedInUserFor(string audience)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);

        return new AuthorizationPolicyBuilder(ShopPolicies.SignedInUser).AddRequirements(new AudienceRequirement(audience)).Build();
    }

    /// <summary>Whether <paramref name="user"/>'s token was issued for <paramref name="audience"/>.</summary>
    public static bool HasAudience(this ClaimsPrincipal user, string audience)
    {
        ArgumentNullException.ThrowIfNull(user);

        return user.HasClaim(AudienceClaim, audience);
    }

    /// <summary>The audience a route needs: none when anonymous (or open, with no policy), else its cluster's.</summary>
    private static string? AudienceOf(RouteConfig route, ClusterConfig? cluster)
    {
        if (string.IsNullOrEmpty(route.AuthorizationPolicy)
            || string.Equals(route.AuthorizationPolicy, "anonymous", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return cluster?.Metadata?.TryGetValue(MetadataKey, out var audience) == true && !string.IsNullOrWhiteSpace(audience)
            ? audience
            : throw new InvalidOperationException(
                $"The route '{route.RouteId}' needs a signed-in user ('{route.AuthorizationPolicy}'), but its cluster " +
                $"'{route.ClusterId}' names no audience for its tokens: set 'ReverseProxy:Clusters:{route.ClusterId}:Metadata:{MetadataKey}' " +
                "to the audience the service checks (its scope at the identity service, e.g. 'ordering'), or make the route anonymous.");
    }

    private sealed class AudienceValidation : IProxyConfigFilter
    {
        public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) =>
            ValueTask.FromResult(cluster);

        public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        {
            AudienceOf(route, cluster);
            return ValueTask.FromResult(route);
        }
    }

    /// <summary>Its own handler: no handler registration, and one claim look-up per authorized request.</summary>
    private sealed class AudienceRequirement(string audience) : IAuthorizationRequirement, IAuthorizationHandler
    {
        public Task HandleAsync(AuthorizationHandlerContext context)
        {
            if (context.User.HasAudience(audience))
            {
                context.Succeed(this);
            }

            return Task.CompletedTask;
        }

        public override string ToString() => $"A token issued for '{audience}' ({AudienceClaim}).";
    }
}
