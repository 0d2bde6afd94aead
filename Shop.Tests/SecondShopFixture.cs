using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// A second whole Shop, set up unlike the first where a test needs it: access tokens live 30 seconds, less than the
/// storefront's one-minute refresh margin, so every storefront request renews the session's tokens; products runs as
/// two replicas behind the gateway; and an order waits 5 seconds for a failing card gateway before it is cancelled.
/// Only the tests of its collection use it.
/// </summary>
public sealed class SecondShopFixture(IMessageSink diagnostics) : ShopFixture(
    diagnostics,
    [
        $"--Parameters:identity-access-token-lifetime={AccessTokenLifetime:c}",
        $"--Parameters:payment-charge-deadline={ChargeDeadline:c}",
        $"--Replicas:products={ProductsReplicas}",
    ],
    ["identity", "products", "gateway", "web"])
{
    public const int ProductsReplicas = 2;

    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(30);

    /// <summary>How long an order waits for a failing card gateway here (ten minutes by default).</summary>
    public static readonly TimeSpan ChargeDeadline = TimeSpan.FromSeconds(5);
}

[CollectionDefinition(Name)]
public sealed class SecondShopCollection : ICollectionFixture<SecondShopFixture>
{
    public const string Name = "A second Shop: short-lived tokens, two products replicas, a short charge deadline";
}
