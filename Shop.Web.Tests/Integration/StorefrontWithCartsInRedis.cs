using Microsoft.Extensions.Logging.Abstractions;
using Shop.Web.Cart;

namespace Shop.Web.Tests.Integration;

/// <summary>The storefront before the stand-in gateway, its carts in the tests' real Redis, which a test reads and sets directly.</summary>
public abstract class StorefrontWithCartsInRedis(RedisFixture redis) : StorefrontBeforeStandInGateway
{
    /// <summary>The carts the storefront keeps, as the test sees them.</summary>
    protected CartStore Carts { get; } = new(NullLogger<CartStore>.Instance, redis.Redis);

    protected override IEnumerable<KeyValuePair<string, string>> StorefrontSettings =>
        [new("ConnectionStrings:cache", redis.Redis.Configuration)];
}
