using System.Globalization;
using Shop.Web.Authentication;

namespace Shop.Web.Tests;

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
    [InlineData("", "/")]
    [InlineData(null, "/")]
    public void Sign_in_and_sign_out_return_only_to_pages_of_the_storefront(string? returnUrl, string expected)
    {
        Assert.Equal(expected, AuthenticationExtensions.LocalOrHome(returnUrl));
    }
}
