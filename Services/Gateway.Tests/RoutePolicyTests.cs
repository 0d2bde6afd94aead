using Microsoft.Extensions.Configuration;

namespace Gateway.Tests;

/// <summary>
/// The gateway's routes as configured: a YARP route without an authorization policy would be open to anyone, so
/// every route must name one, and the catalog, ordering and payment routes must name the right one.
/// </summary>
public class RoutePolicyTests
{
    private static readonly IConfigurationSection ReverseProxy = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.json"))
        .Build()
        .GetSection("ReverseProxy");

    private static IEnumerable<IConfigurationSection> AllRoutes => ReverseProxy.GetSection("Routes").GetChildren();

    [Fact]
    public void Every_route_names_an_authorization_policy_the_gateway_defines()
    {
        Assert.NotEmpty(AllRoutes);
        Assert.All(AllRoutes, route => Assert.Contains(route["AuthorizationPolicy"], new[] { "anonymous", "default", "admin" }));
    }

    /// <summary>
    /// The storefront's CORS policy applies to every route, and only requests with an <c>Origin</c> header pass
    /// through the CORS middleware. A route naming a CORS policy would make every request without one fail with a
    /// 500: endpoint routing refuses to run an endpoint with CORS metadata that the CORS middleware did not see.
    /// </summary>
    [Fact]
    public void No_route_names_a_CORS_policy_of_its_own()
    {
        Assert.All(AllRoutes, route => Assert.Null(route["CorsPolicy"]));
    }

    [Fact]
    public void Catalog_reads_are_anonymous_and_every_catalog_write_and_inventory_read_needs_an_admin()
    {
        var products = AllRoutes.Where(r => r["ClusterId"] == "products").ToList();
        var methods = products.ToDictionary(r => r.Key, r => r.GetSection("Match:Methods").Get<string[]>() ?? []);

        Assert.All(products, route => Assert.NotEmpty(methods[route.Key]));
        var anonymous = Assert.Single(products, r => r["AuthorizationPolicy"] == "anonymous");
        Assert.Equal(["GET", "HEAD"], methods[anonymous.Key].Order());
        var admin = products.Where(r => r["AuthorizationPolicy"] == "admin").ToList();
        Assert.Equal(products.Count - 1, admin.Count);
        Assert.Equal(["DELETE", "PATCH", "POST", "PUT"], admin.Where(r => !methods[r.Key].Contains("GET")).SelectMany(r => methods[r.Key]).Order());
        // The reads that products keeps for admins are refused at the gateway already (and still checked by products).
        Assert.Equal(
            ["/api/products/dead-letters/{**catch-all}", "/api/products/items/{id}/stock", "/api/products/reservations/{**catch-all}"],
            admin.Where(r => methods[r.Key].Contains("GET")).Select(r => r["Match:Path"]).Order());
    }

    [Fact]
    public void Ordering_and_payment_need_a_signed_in_user_except_pricing_a_cart()
    {
        var routes = AllRoutes.Where(r => r["ClusterId"] is "ordering" or "payment").ToList();

        var anonymous = Assert.Single(routes, r => r["AuthorizationPolicy"] == "anonymous");
        Assert.Equal("/api/ordering/quotes", anonymous["Match:Path"]);
        Assert.All(routes.Where(r => r != anonymous), r => Assert.Equal("default", r["AuthorizationPolicy"]));
    }

    /// <summary>
    /// A route that needs a user needs a token for its cluster's audience (<c>RouteAudiences</c>): the audience is the
    /// service the cluster's destinations name, which is also that API's scope at the identity service.
    /// </summary>
    [Fact]
    public void Every_cluster_names_the_audience_of_the_service_it_leads_to()
    {
        var clusters = ReverseProxy.GetSection("Clusters").GetChildren().ToList();

        Assert.Equal(["identity", "ordering", "payment", "products"], clusters.Select(c => c.Key).Order());
        Assert.All(clusters, cluster => Assert.All(
            cluster.GetSection("Destinations").GetChildren(),
            destination => Assert.Equal(new Uri(destination["Address"]!).Host, cluster["Metadata:Audience"])));
    }

    [Fact]
    public void Only_registration_and_the_sign_in_endpoints_of_identity_are_anonymous()
    {
        var anonymous = AllRoutes
            .Where(r => r["ClusterId"] == "identity" && r["AuthorizationPolicy"] == "anonymous")
            .Select(r => r["Match:Path"])
            .Order();

        Assert.Equal(["/.well-known/{**catch-all}", "/account/{**catch-all}", "/api/identity/users", "/connect/{**catch-all}"], anonymous);
    }
}
