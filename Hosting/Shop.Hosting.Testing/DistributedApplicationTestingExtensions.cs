using Microsoft.Extensions.DependencyInjection;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Dashboard;

namespace Shop.Hosting.Testing;

/// <summary>Reaching a running app's resources from a test.</summary>
public static class DistributedApplicationTestingExtensions
{
    /// <summary>An HttpClient whose base address is the resource's endpoint (the first replica's).</summary>
    public static HttpClient CreateHttpClient(this DistributedApplication app, string resourceName, string? endpointName = null)
    {
        var endpoint = app.GetEndpoint(resourceName, endpointName);
        return new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = endpoint };
    }

    /// <summary>The URL of a resource's endpoint (default: its http endpoint, or its only one).</summary>
    public static Uri GetEndpoint(this DistributedApplication app, string resourceName, string? endpointName = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var resource = FindResource(app, resourceName);
        var endpoints = resource.AnnotationsOf<EndpointAnnotation>().ToList();
        var endpoint = (endpointName is null
                ? endpoints.FirstOrDefault(e => e.Name == "http") ?? (endpoints.Count == 1 ? endpoints[0] : null)
                : endpoints.FirstOrDefault(e => e.Name == endpointName))
            ?? throw new ArgumentException($"Resource '{resourceName}' has no endpoint named '{endpointName ?? "http"}' (it has: {string.Join(", ", endpoints.Select(e => e.Name))}).", nameof(endpointName));
        if (endpoint.Allocated.Count == 0)
        {
            throw new InvalidOperationException($"Endpoint '{resourceName}/{endpoint.Name}' is not allocated: start the app first.");
        }

        return new Uri(endpoint.Allocated[0].Url);
    }

    /// <summary>
    /// The dashboard's sign-in link (<c>/login?t=…</c>) when the app runs one (under test only when asked for with
    /// <c>--AppHost:DisableDashboard=false</c>); its token also works as a bearer token for the dashboard's API.
    /// </summary>
    public static Uri GetDashboardLoginUrl(this DistributedApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetService<DashboardOptions>()
            ?? throw new InvalidOperationException("This app runs no dashboard: pass --AppHost:DisableDashboard=false to the testing builder.");
        return new Uri(options.LoginUrl);
    }

    /// <summary>The connection string a referencing resource would receive.</summary>
    public static async ValueTask<string?> GetConnectionStringAsync(this DistributedApplication app, string resourceName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        return FindResource(app, resourceName) is IResourceWithConnectionString resource
            ? await resource.ConnectionStringExpression.GetValueAsync(cancellationToken)
            : throw new ArgumentException($"Resource '{resourceName}' has no connection string.", nameof(resourceName));
    }

    /// <summary>
    /// librdkafka settings for a test's own Kafka clients, e.g. <c>new ProducerConfig(await app.GetKafkaClientConfigAsync("kafka"))</c>:
    /// <c>bootstrap.servers</c>, and for the broker the AppHost runs the SASL/PLAIN settings of its admin user, a super
    /// user that may read and write every topic. An existing cluster (<c>ConnectionStrings:{name}</c>) gets the
    /// bootstrap servers alone: its credentials are the test's to add. Each call returns a new dictionary.
    /// </summary>
    public static async ValueTask<Dictionary<string, string>> GetKafkaClientConfigAsync(this DistributedApplication app, string resourceName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var kafka = FindResource(app, resourceName) as KafkaServerResource
            ?? throw new ArgumentException($"Resource '{resourceName}' is not a Kafka resource (AddKafka).", nameof(resourceName));
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = await kafka.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? string.Empty,
        };
        if (kafka.AdminPasswordParameter is { } password)
        {
            config["security.protocol"] = "SASL_PLAINTEXT";
            config["sasl.mechanism"] = "PLAIN";
            config["sasl.username"] = KafkaServerResource.AdminUserName;
            config["sasl.password"] = password.Value;
        }

        return config;
    }

    private static IResource FindResource(DistributedApplication app, string resourceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceName);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        return model.Resources.FirstOrDefault(r => r.Name == resourceName)
            ?? throw new ArgumentException($"There is no resource named '{resourceName}' (there are: {string.Join(", ", model.Resources.Select(r => r.Name))}).", nameof(resourceName));
    }
}
