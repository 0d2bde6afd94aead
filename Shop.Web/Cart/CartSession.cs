using System.Security.Claims;
using System.Security.Cryptography;

namespace Shop.Web.Cart;

/// <summary>
/// The cart of whoever sends the current request: a signed-in user's own cart (so it follows them to any browser),
/// or, before sign-in, a visitor's cart named by a random id in the <see cref="VisitorCookieName"/> cookie. The
/// cookie is only set when a visitor first puts something in a cart, from a static page's form post (whose response
/// has not started). At sign-in <see cref="MergeVisitorCartAsync"/> moves the visitor's cart into the user's.
/// </summary>
public sealed partial class CartSession(IHttpContextAccessor httpContextAccessor, CartStore store, TimeProvider timeProvider)
{
    public const string VisitorCookieName = "shop.cart";

    private static readonly TimeSpan VisitorCookieLifetime = TimeSpan.FromDays(7);

    /// <summary>The visitor id this request created, so a second change in the same request finds the same cart.</summary>
    private string? _createdVisitorId;

    /// <summary>The cart as stored; empty for a visitor who has none.</summary>
    /// <exception cref="CartUnavailableException">The cart store did not answer.</exception>
    public Task<ShoppingCart> GetAsync() =>
        Owner(create: false) is { } owner ? store.GetAsync(owner) : Task.FromResult(ShoppingCart.Empty);

    /// <summary>Changes the cart (creating the visitor's cookie if this is their first change).</summary>
    /// <exception cref="CartUnavailableException">The cart store did not answer.</exception>
    public Task<(ShoppingCart Cart, T Result)> UpdateAsync<T>(Func<ShoppingCart, (ShoppingCart Cart, T Result)> change) =>
        store.UpdateAsync(Owner(create: true)!.Value, change);

    /// <summary>
    /// The query parameter with which the page a sign-in returns to is told how many of the visitor's lines the user's
    /// cart had no room for (the layout says so).
    /// </summary>
    public const string LeftOutQueryName = "cart-left-out";

    /// <summary>
    /// Called when a sign-in completes (the OpenID Connect ticket arrived): the visitor's cart, if any, joins the
    /// user's cart and the visitor cookie is dropped. Returns the visitor's lines the user's cart had no room for, for
    /// the shopper to be told. A cart store that is down must not stop the sign-in: the visitor's cart then stays where
    /// it is, and is merged at the next sign-in.
    /// </summary>
    public static async Task<IReadOnlyList<CartLine>> MergeVisitorCartAsync(HttpContext context, ClaimsPrincipal? user)
    {
        ArgumentNullException.ThrowIfNull(context);

        if (user?.FindFirstValue("sub") is not { Length: > 0 } subject
            || VisitorIdOf(context.Request.Cookies[VisitorCookieName]) is not { } visitorId)
        {
            return [];
        }

        var services = context.RequestServices;
        try
        {
            var merge = await services.GetRequiredService<CartStore>().MergeAsync(CartOwner.Visitor(visitorId), CartOwner.User(subject));
            context.Response.Cookies.Delete(VisitorCookieName);
            return merge.LeftOut;
        }
        catch (CartUnavailableException exception)
        {
            LogMergeFailed(services.GetRequiredService<ILogger<CartSession>>(), exception);
            return [];
        }
    }

    /// <summary>A visitor id as the cookie must carry it (32 lowercase hex digits); anything else is ignored.</summary>
    internal static string? VisitorIdOf(string? cookie) =>
        cookie is { Length: 32 } && cookie.All(char.IsAsciiHexDigitLower) ? cookie : null;

    private CartOwner? Owner(bool create)
    {
        var context = httpContextAccessor.HttpContext
                      ?? throw new InvalidOperationException("The cart is only available while a request is being handled.");
        if (context.User.FindFirstValue("sub") is { Length: > 0 } subject)
        {
            return CartOwner.User(subject);
        }

        if ((_createdVisitorId ?? VisitorIdOf(context.Request.Cookies[VisitorCookieName])) is { } visitorId)
        {
            return CartOwner.Visitor(visitorId);
        }

        if (!create)
        {
            return null;
        }

        if (context.Response.HasStarted)
        {
            throw new InvalidOperationException("A visitor's first cart change must come from a request whose response has not started.");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        context.Response.Cookies.Append(VisitorCookieName, id, new CookieOptions
        {
            HttpOnly = true,
            IsEssential = true,
            SameSite = SameSiteMode.Lax,
            Secure = context.Request.IsHttps,
            Expires = timeProvider.GetUtcNow().Add(VisitorCookieLifetime),
        });
        _createdVisitorId = id;
        return CartOwner.Visitor(id);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The visitor's cart could not be merged at sign-in; it stays for the next sign-in")]
    private static partial void LogMergeFailed(ILogger logger, Exception exception);
}
