using System.Text.Json;
using StackExchange.Redis;

namespace Shop.Web.Cart;

/// <summary>Whose cart: a signed-in user's (by the token's subject) or a visitor's (by their cart cookie).</summary>
public readonly record struct CartOwner
{
    private CartOwner(string key, TimeSpan lifetime) => (Key, Lifetime) = (key, lifetime);

    /// <summary>The owner's part of the Redis key.</summary>
    public string Key { get; }

    /// <summary>How long the cart is kept after its last change.</summary>
    public TimeSpan Lifetime { get; }

    public static CartOwner User(string subject)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        return new CartOwner("user:" + subject, TimeSpan.FromDays(30));
    }

    public static CartOwner Visitor(string visitorId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(visitorId);
        return new CartOwner("visitor:" + visitorId, TimeSpan.FromDays(7));
    }

    public override string ToString() => Key;
}

/// <summary>
/// Carts in Redis (the AppHost's <c>cache</c>), one JSON document per owner. Every change is a compare-and-set: the
/// new cart is written only if the stored one is still the one it was made from (a Redis transaction with a
/// condition), else the change is made again on the fresh cart. So two tabs, a double click or two replicas never
/// lose each other's changes, and the cart's rules live in <see cref="ShoppingCart"/> alone.
/// </summary>
public sealed partial class CartStore(ILogger<CartStore> logger, IConnectionMultiplexer? redis = null)
{
    public const string KeyPrefix = "shop.web:cart:";

    /// <summary>Far more than contention between one shopper's own requests ever needs.</summary>
    private const int MaxAttempts = 20;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <exception cref="CartUnavailableException">Redis did not answer, or no cart store is configured.</exception>
    public async Task<ShoppingCart> GetAsync(CartOwner owner)
    {
        var database = Database();
        return Read(await CallAsync(() => database.StringGetAsync(KeyOf(owner))), owner);
    }

    /// <summary>Applies <paramref name="change"/> to the stored cart and stores the result; returns what it returned.</summary>
    /// <exception cref="CartUnavailableException">Redis did not answer, or no cart store is configured.</exception>
    public async Task<(ShoppingCart Cart, T Result)> UpdateAsync<T>(CartOwner owner, Func<ShoppingCart, (ShoppingCart Cart, T Result)> change)
    {
        ArgumentNullException.ThrowIfNull(change);

        var database = Database();
        var key = KeyOf(owner);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var stored = await CallAsync(() => database.StringGetAsync(key));
            var (cart, result) = change(Read(stored, owner));
            var transaction = database.CreateTransaction();
            if (!StageWrite(transaction, key, stored, cart, owner.Lifetime))
            {
                return (cart, result);
            }

            if (await CallAsync(() => transaction.ExecuteAsync()))
            {
                return (cart, result);
            }

            await BackOffAsync(attempt);
        }

        throw new CartUnavailableException("The cart kept changing while it was being updated.");
    }

    /// <summary>
    /// Moves a visitor's cart into a user's at sign-in: lines add up, the visitor's cart is gone afterwards. Returns the
    /// user's cart and the visitor's lines it had no room for (<see cref="ShoppingCart.MaxLines"/>).
    /// </summary>
    /// <exception cref="CartUnavailableException">Redis did not answer, or no cart store is configured.</exception>
    public async Task<CartMerge> MergeAsync(CartOwner visitor, CartOwner user)
    {
        var database = Database();
        var (visitorKey, userKey) = (KeyOf(visitor), KeyOf(user));
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var storedVisitor = await CallAsync(() => database.StringGetAsync(visitorKey));
            var storedUser = await CallAsync(() => database.StringGetAsync(userKey));
            var userCart = Read(storedUser, user);
            var visitorCart = Read(storedVisitor, visitor);
            if (!storedVisitor.HasValue)
            {
                return new CartMerge(userCart, []);
            }

            var merged = userCart.MergedWith(visitorCart);
            var transaction = database.CreateTransaction();
            transaction.AddCondition(Condition.StringEqual(visitorKey, storedVisitor));
            StageWrite(transaction, userKey, storedUser, merged.Cart, user.Lifetime, forceWrite: true);
            _ = transaction.KeyDeleteAsync(visitorKey);
            if (await CallAsync(() => transaction.ExecuteAsync()))
            {
                return merged;
            }

            await BackOffAsync(attempt);
        }

        throw new CartUnavailableException("The carts kept changing while they were being merged.");
    }

    /// <summary>
    /// Adds the write of <paramref name="cart"/> to <paramref name="transaction"/>, conditioned on the key still
    /// holding <paramref name="stored"/>. False when there is nothing to write (unless <paramref name="forceWrite"/>).
    /// </summary>
    private static bool StageWrite(ITransaction transaction, RedisKey key, RedisValue stored, ShoppingCart cart, TimeSpan lifetime, bool forceWrite = false)
    {
        var blank = cart is { IsEmpty: true, Checkout: null, LastOrder: null };
        var json = blank ? RedisValue.Null : (RedisValue)JsonSerializer.Serialize(cart, Json);
        if (!forceWrite && (blank ? !stored.HasValue : stored == json))
        {
            return false;
        }

        transaction.AddCondition(stored.HasValue ? Condition.StringEqual(key, stored) : Condition.KeyNotExists(key));
        _ = blank ? transaction.KeyDeleteAsync(key) : transaction.StringSetAsync(key, json, lifetime);
        return true;
    }

    private ShoppingCart Read(RedisValue stored, CartOwner owner)
    {
        if (!stored.HasValue)
        {
            return ShoppingCart.Empty;
        }

        try
        {
            return JsonSerializer.Deserialize<ShoppingCart>(stored.ToString(), Json) ?? ShoppingCart.Empty;
        }
        catch (JsonException exception)
        {
            // A cart that cannot be read is replaced by the next change rather than breaking every page.
            LogUnreadable(logger, owner.Key, exception);
            return ShoppingCart.Empty;
        }
    }

    private IDatabase Database() =>
        redis?.GetDatabase() ?? throw new CartUnavailableException(
            "No cart store is configured: the storefront needs the Redis connection string 'ConnectionStrings:cache'.");

    private async Task<TResult> CallAsync<TResult>(Func<Task<TResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            LogUnavailable(logger, exception);
            throw new CartUnavailableException("The cart store did not answer.", exception);
        }
    }

    private static RedisKey KeyOf(CartOwner owner) => KeyPrefix + owner.Key;

    /// <summary>Writers that lost a race wait a random moment, growing with each loss, so they stop colliding.</summary>
    private static Task BackOffAsync(int attempt) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 2 << Math.Min(attempt, 7))));

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cart store (Redis) did not answer")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored cart of {Owner} could not be read; it is treated as empty")]
    private static partial void LogUnreadable(ILogger logger, string owner, Exception exception);
}

/// <summary>The cart could not be read or saved; pages say so and keep working without it.</summary>
public sealed class CartUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);
