using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// The Shop most tests share, with the dashboard, as in run mode: every service exports its telemetry to it. Its limits
/// differ from the AppHost's defaults, which are also the services' own: the tests that read them (rate limits,
/// lockout, the payment gateway's latency) then fail if a parameter stops reaching its service.
/// </summary>
public sealed class ShopAppFixture(IMessageSink diagnostics)
    : ShopFixture(diagnostics, ["--AppHost:DisableDashboard=false", .. TestParameters.Select(p => $"--Parameters:{p.Key}={p.Value}")], ResourceNames)
{
    /// <summary>Every resource of Shop.AppHost; each must reach Healthy.</summary>
    public static readonly string[] ResourceNames =
        ["postgres", "identitydb", "productsdb", "orderingdb", "paymentdb", "cache", "kafka", "identity", "products", "ordering", "payment", "payment-gateway", "gateway", "web"];

    /// <summary>AppHost parameters this fixture sets, each unlike its default.</summary>
    public static readonly IReadOnlyDictionary<string, string> TestParameters = new Dictionary<string, string>
    {
        ["gateway-rate-limit"] = "150",
        ["gateway-rate-limit-anonymous"] = "500",
        ["gateway-rate-limit-window-seconds"] = "8",
        ["identity-lockout-attempts"] = "4",
        ["payment-gateway-latency-ms"] = "20",
    };
}

[CollectionDefinition(Name)]
public sealed class ShopAppCollection : ICollectionFixture<ShopAppFixture>
{
    public const string Name = "Shop app";
}
