using System.Globalization;
using Shop.Web.Authentication;
using Shop.Web.Cart;

namespace Shop.Web.Tests.Unit;

public class SessionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static string At(TimeSpan fromNow) => Now.Add(fromNow).ToString("o", CultureInfo.InvariantCulture);

    [Fact]
    public void An_access_token_with_minutes_left_is_kept()
    {
        Assert.False(TokenRefresher.NeedsRefresh(At(TimeSpan.FromMinutes(10)), Now));
    }

    [Fact]
    public void An_access_token_that_expires_within_a_minute_or_has_expired_is_refreshed()
    {
        Assert.True(TokenRefresher.NeedsRefresh(At(TimeSpan.FromSeconds(59)), Now));
        Assert.True(TokenRefresher.NeedsRefresh(At(TimeSpan.FromHours(-3)), Now));
    }

    [Fact]
    public void A_session_without_a_recorded_expiry_is_left_alone()
    {
        Assert.False(TokenRefresher.NeedsRefresh(null, Now));
        Assert.False(TokenRefresher.NeedsRefresh("not a date", Now));
    }

    [Theory]
    [InlineData("/profile", "/profile")]
    [InlineData("/?page=2", "/?page=2")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    // Browsers drop tabs and line breaks from a Location: "/\t/evil.example" is followed as "//evil.example".
    [InlineData("/\t/evil.example/steal", "/")]
    [InlineData("/\n/evil.example", "/")]
    [InlineData("/\r/evil.example", "/")]
    [InlineData("/orders\u0000", "/")]
    [InlineData("", "/")]
    [InlineData(null, "/")]
    public void Sign_in_and_sign_out_return_only_to_pages_of_the_storefront(string? returnUrl, string expected)
    {
        Assert.Equal(expected, AuthenticationExtensions.LocalOrHome(returnUrl));
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef", true)]
    [InlineData("0123456789ABCDEF0123456789ABCDEF", false)]
    [InlineData("0123456789abcdef", false)]
    [InlineData("user:someone-else0123456789abcde", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_a_well_formed_visitor_cookie_names_a_visitor_cart(string? cookie, bool accepted)
    {
        Assert.Equal(accepted ? cookie : null, CartSession.VisitorIdOf(cookie));
    }
}
