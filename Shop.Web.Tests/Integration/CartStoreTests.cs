using Microsoft.Extensions.Logging.Abstractions;
using Shop.Web.Cart;

namespace Shop.Web.Tests.Integration;

[Collection(RedisCollection.Name)]
public sealed class CartStoreTests(RedisFixture redis)
{
    private readonly CartStore _store = new(NullLogger<CartStore>.Instance, redis.Redis);

    private static CartOwner NewUser() => CartOwner.User(Guid.NewGuid().ToString());

    private static CartOwner NewVisitor() => CartOwner.Visitor(Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_cart_is_kept_in_redis_with_its_owners_lifetime_and_an_emptied_cart_is_removed()
    {
        var owner = NewVisitor();

        await _store.UpdateAsync(owner, cart => (cart.Add(5, 2).Cart, true));

        Assert.Equal([new CartLine(5, 2)], (await _store.GetAsync(owner)).Lines);
        var key = CartStore.KeyPrefix + owner.Key;
        var ttl = await redis.Redis.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));

        await _store.UpdateAsync(owner, cart => (cart.Remove(5), true));

        Assert.False(await redis.Redis.GetDatabase().KeyExistsAsync(key));
        Assert.True((await _store.GetAsync(owner)).IsEmpty);
    }

    [Fact]
    public async Task Concurrent_changes_to_one_cart_are_all_kept()
    {
        var owner = NewUser();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // Forty requests at once, as two tabs and a double click would send them: ten products, four units each.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(
            () => _store.UpdateAsync(owner, cart => (cart.Add(1 + (i % 10), 1).Cart, true)),
            timeout.Token)));

        var stored = await _store.GetAsync(owner);
        Assert.Equal(10, stored.Lines.Count);
        Assert.All(stored.Lines, l => Assert.Equal(4, l.Quantity));
    }

    [Fact]
    public async Task Signing_in_moves_the_visitors_cart_into_the_users_and_leaves_no_visitor_cart()
    {
        var (visitor, user) = (NewVisitor(), NewUser());
        await _store.UpdateAsync(user, cart => (cart.Add(1, 1).Cart, true));
        await _store.UpdateAsync(visitor, cart => (cart.Add(1, 2).Cart.Add(2, 1).Cart, true));

        var merged = await _store.MergeAsync(visitor, user);

        Assert.Equal([new CartLine(1, 3), new CartLine(2, 1)], merged.Cart.Lines);
        Assert.Empty(merged.LeftOut);
        Assert.Equal(merged.Cart.Lines, (await _store.GetAsync(user)).Lines);
        Assert.True((await _store.GetAsync(visitor)).IsEmpty);
        Assert.False(await redis.Redis.GetDatabase().KeyExistsAsync(CartStore.KeyPrefix + visitor.Key));

        // A second sign-in (another callback, a retried one) finds nothing more to merge.
        Assert.Equal(merged.Cart.Lines, (await _store.MergeAsync(visitor, user)).Cart.Lines);
    }

    [Fact]
    public async Task A_checkout_completed_by_two_racing_submissions_takes_its_units_out_once()
    {
        var owner = NewUser();
        var (begun, _) = await _store.UpdateAsync(owner, cart => (cart.Add(1, 5).Cart.BeginCheckout(CheckoutDecision.NewIdempotencyKey), true));
        var key = begun.Checkout!.IdempotencyKey;
        var orderId = Guid.NewGuid();
        CartLine[] ordered = [new CartLine(1, 3)];

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(
            () => _store.UpdateAsync(owner, cart => (cart.CompleteCheckout(key, orderId, ordered), true)))));

        var stored = await _store.GetAsync(owner);
        Assert.Equal([new CartLine(1, 2)], stored.Lines);
        Assert.Equal(new PlacedOrder(key, orderId), stored.LastOrder);
        Assert.Equal(new CheckoutDecision.AlreadyPlaced(orderId), CheckoutDecision.For(stored, key, begun.Fingerprint(), "10.00"));
    }

    [Fact]
    public async Task Without_a_configured_store_the_cart_says_it_is_unavailable()
    {
        var unconfigured = new CartStore(NullLogger<CartStore>.Instance);

        var error = await Assert.ThrowsAsync<CartUnavailableException>(() => unconfigured.GetAsync(NewUser()));
        Assert.Contains("ConnectionStrings:cache", error.Message, StringComparison.Ordinal);
    }
}
