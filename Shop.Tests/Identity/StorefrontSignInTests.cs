using System.Net;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>The storefront as its visitors use it: OpenID Connect sign-in, the profile page, sign-out everywhere.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class StorefrontSignInTests
{
    private readonly ShopAppFixture _shop;
    private readonly ShopIdentityClient _identity;

    public StorefrontSignInTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task A_visitor_signs_in_on_the_storefront_edits_their_profile_and_signs_out_everywhere()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("storefront", ct);
        using var browser = new BrowserSession();
        var profileUrl = new Uri(_identity.Web, "/profile");

        // The profile page needs a signed-in user: the storefront sends the browser to the identity service's page.
        var (profilePage, url) = await _identity.SignInOnStorefrontAsync(browser, user, profileUrl, ct);
        string profileHtml;
        using (profilePage)
        {
            profileHtml = await profilePage.Content.ReadAsStringAsync(ct);
            Assert.True(profilePage.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)profilePage.StatusCode}: {profileHtml}");
            Assert.Equal(profileUrl, url);
        }

        // The layout names the user; the page shows the profile read through the gateway with their access token.
        Assert.Matches($"<span class=\"user-name\"[^>]*>{Regex.Escape(WebUtility.HtmlEncode(user.Name))}</span>", profileHtml);
        Assert.Contains($"Signed in as <strong>{WebUtility.HtmlEncode(user.Email)}</strong>", profileHtml, StringComparison.Ordinal);

        var edit = HtmlForm.Parse(profileHtml, "Input.Street");
        using (var saved = await browser.PostAsync(profileUrl, edit.With(
                   ("Input.Name", "Grace Hopper"), ("Input.Street", "1 Navy Way"), ("Input.City", "Arlington"),
                   ("Input.PostalCode", "22202"), ("Input.Country", "United States")), ct))
        {
            var html = await saved.Content.ReadAsStringAsync(ct);
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
            Assert.Contains("Your profile is saved.", html, StringComparison.Ordinal);
            Assert.Contains("value=\"Arlington\"", html, StringComparison.Ordinal);
        }

        // Signing out ends both sessions: the storefront's and the identity service's.
        var signOut = HtmlForm.Parse(profileHtml, "Sign out");
        var signOutUrl = new Uri(_identity.Web, signOut.Action!);
        var (home, homeUrl) = await browser.FollowAsync(await browser.PostAsync(signOutUrl, signOut.With(), ct), signOutUrl, ct);
        using (home)
        {
            Assert.Equal(new Uri(_identity.Web, "/"), homeUrl);
            var html = await home.Content.ReadAsStringAsync(ct);
            Assert.Contains(">Sign in</a>", html, StringComparison.Ordinal);
            Assert.DoesNotContain("user-name", html, StringComparison.Ordinal);
        }

        var (again, againUrl) = await browser.FollowAsync(await browser.GetAsync(profileUrl, ct), profileUrl, ct);
        using (again)
        {
            Assert.Equal("/account/login", againUrl.AbsolutePath);
        }
    }
}
