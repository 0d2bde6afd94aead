using System.Reflection;
using k8s;
using k8s.Models;
using Shop.Hosting.Testing;

namespace Shop.Tests;

/// <summary>Shop's own app model, published for Kubernetes: every project deployed, every server provided.</summary>
public sealed class KubernetesPublishingTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("shop-k8s-").FullName;

    [Fact]
    public async Task Shop_publishes_a_deployment_per_service_and_the_servers_they_use()
    {
        var files = await PublishAsync();

        string[] projects = ["identity", "products", "ordering", "payment", "gateway", "web"];
        // The images are tagged with the AppHost's build version, which a deployment can name again, not "latest".
        var version = Assembly.Load("Shop.AppHost").GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        Assert.Superset(projects.Select(p => $"{p}.yaml").Concat(["postgres.yaml", "cache.yaml", "kafka.yaml", "kustomization.yaml"]).ToHashSet(), files.ToHashSet());
        foreach (var project in projects)
        {
            var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(_output, $"{project}.yaml")));
            var container = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();
            Assert.Equal($"shop/{project}:{version}", container.Image);
            Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
            // The token issuer is the gateway's public address, as the browser sees it.
            if (project != "gateway")
            {
                Assert.Contains(container.Env, e => e.Name == "Identity__Url" && e.Value == "https://shop.example.com");
            }
        }

        var postgres = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(_output, "postgres.yaml")));
        var init = postgres.OfType<V1ConfigMap>().Single().Data["init.sql"];
        Assert.All(["identitydb", "productsdb", "orderingdb", "paymentdb"], db => Assert.Contains($"CREATE DATABASE \"{db}\";", init, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Identity_gets_its_key_encryption_secret_from_the_generated_Secret_only()
    {
        var files = await PublishAsync();

        var env = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(_output, "identity.yaml")))
            .OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal("$(PARAMETER_IDENTITY_KEY_ENCRYPTION_SECRET)", env["Identity__KeyEncryptionSecret"].Value);
        var reference = env["PARAMETER_IDENTITY_KEY_ENCRYPTION_SECRET"].ValueFrom.SecretKeyRef;
        Assert.Equal(("app-secrets", "identity-key-encryption-secret"), (reference.Name, reference.Key));

        var secret = (await File.ReadAllLinesAsync(Path.Combine(_output, "secrets.env")))
            .Single(line => line.StartsWith("identity-key-encryption-secret=", StringComparison.Ordinal)).Split('=', 2)[1];
        Assert.Matches("^[A-Za-z0-9]{24}$", secret);
        foreach (var manifest in files.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(secret, await File.ReadAllTextAsync(Path.Combine(_output, manifest)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_deployment_creates_its_first_admin_with_a_generated_password_from_the_Secret()
    {
        await PublishAsync();

        var deployment = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(_output, "identity.yaml")))
            .OfType<V1Deployment>().Single().Spec.Template.Spec;
        var env = deployment.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal("$(PARAMETER_IDENTITY_FIRST_ADMIN_EMAIL)", env["Identity__FirstAdmin__Email"].Value);
        var email = env["PARAMETER_IDENTITY_FIRST_ADMIN_EMAIL"].ValueFrom.ConfigMapKeyRef;
        Assert.Equal(("app-config", "identity-first-admin-email"), (email.Name, email.Key));
        Assert.Contains("identity-first-admin-email=admin@shop.example", await File.ReadAllLinesAsync(Path.Combine(_output, "config.env")));
        Assert.Equal("$(PARAMETER_IDENTITY_FIRST_ADMIN_PASSWORD)", env["Identity__FirstAdmin__Password"].Value);
        var reference = env["PARAMETER_IDENTITY_FIRST_ADMIN_PASSWORD"].ValueFrom.SecretKeyRef;
        Assert.Equal(("app-secrets", "identity-first-admin-password"), (reference.Name, reference.Key));
        var password = (await File.ReadAllLinesAsync(Path.Combine(_output, "secrets.env")))
            .Single(line => line.StartsWith("identity-first-admin-password=", StringComparison.Ordinal)).Split('=', 2)[1];
        // Identity takes a password as it is from 16 characters (FirstAdminSettings.LongPasswordLength).
        Assert.Matches("^[A-Za-z0-9]{24}$", password);
    }

    /// <summary>
    /// The gateway limits anonymous callers by address. In a cluster the storefront calls it at its Service, not
    /// through the public load balancer (where every visitor would arrive as one client), and the gateway and identity
    /// believe the visitor's address that the storefront (or an ingress) names only from the networks the deployment
    /// lists in config.env.
    /// </summary>
    [Fact]
    public async Task The_storefront_calls_the_gateway_inside_the_cluster_and_the_trusted_proxy_networks_are_the_deployments_to_set()
    {
        await PublishAsync();

        var web = Environment("web");
        Assert.Equal("http://gateway:8080", web["services__gateway__http__0"].Value);
        Assert.Equal("https://shop.example.com", web["Identity__Url"].Value);
        foreach (var project in new[] { "gateway", "identity", "web" })
        {
            var env = Environment(project);
            Assert.Equal("$(PARAMETER_TRUSTED_PROXY_NETWORKS)", env["ForwardedHeaders__KnownNetworks"].Value);
            Assert.Equal(("app-config", "trusted-proxy-networks"), (env["PARAMETER_TRUSTED_PROXY_NETWORKS"].ValueFrom.ConfigMapKeyRef.Name, env["PARAMETER_TRUSTED_PROXY_NETWORKS"].ValueFrom.ConfigMapKeyRef.Key));
        }

        Assert.Contains("trusted-proxy-networks=", await File.ReadAllLinesAsync(Path.Combine(_output, "config.env")));
        var gatewayService = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(_output, "gateway.yaml"))).OfType<V1Service>().Single().Spec;
        Assert.Equal(("LoadBalancer", "Local"), (gatewayService.Type, gatewayService.ExternalTrafficPolicy));
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);

    private Dictionary<string, V1EnvVar> Environment(string project) =>
        KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(_output, $"{project}.yaml")))
            .OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);

    private async Task<IReadOnlyList<string>> PublishAsync()
    {
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
            ["--publisher", "kubernetes", "--output-path", _output, "--Publishing:ExternalUrls:gateway=https://shop.example.com", "--Publishing:ExternalUrls:web=https://www.shop.example.com"]);
        await using var app = await appHost.BuildAsync();
        return await app.PublishAsync();
    }
}
