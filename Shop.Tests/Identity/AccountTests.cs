using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests.Identity;

/// <summary>Issue 5, item 3: lockout, password rules and unique e-mail addresses, on the pages and in the API.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class AccountTests
{
    private readonly ShopAppFixture _shop;
    private readonly ShopIdentityClient _identity;

    public AccountTests(ShopAppFixture shop, ITestOutputHelper output)
    {
        _shop = shop;
        _shop.Output = output;
        _identity = new ShopIdentityClient(shop.App);
    }

    [Fact]
    public async Task Sign_in_is_locked_after_the_configured_number_of_failures_even_with_the_right_password()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var attempts = int.Parse(_identity.Parameter("identity-lockout-attempts"), CultureInfo.InvariantCulture);
        var user = await _identity.RegisterAsync("lockout", ct);
        using var browser = new BrowserSession();
        var authorization = AuthorizationRequest.Create(ShopIdentityClient.AllScopes);

        for (var attempt = 1; attempt < attempts; attempt++)
        {
            var (page, _) = await _identity.SubmitLoginAsync(browser, authorization, user.Email, "Wrong#Password1", ct);
            Assert.Equal(["The e-mail address or the password is wrong."], HtmlForm.Errors(page));
        }

        var (locking, _) = await _identity.SubmitLoginAsync(browser, authorization, user.Email, "Wrong#Password1", ct);
        Assert.Matches("^This account is locked after too many failed sign-ins. Try again in [0-9]+ minutes?.$", Assert.Single(HtmlForm.Errors(locking)));

        // The right password no longer helps, and no authorization code is issued.
        var (refused, url) = await _identity.SubmitLoginAsync(browser, authorization, user.Email, user.Password, ct);
        Assert.StartsWith("This account is locked", Assert.Single(HtmlForm.Errors(refused)), StringComparison.Ordinal);
        Assert.Equal("/account/login", url.AbsolutePath);
        Assert.DoesNotContain("name=\"code\"", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Weak_passwords_and_taken_email_addresses_are_refused_by_the_API_with_clear_messages()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        using var gateway = _identity.CreateGatewayClient();
        var email = ShopIdentityClient.NewEmail("rules");

        using (var weak = await gateway.PostAsJsonAsync("/api/identity/users", new { email, password = "short", name = "Weak" }, ct))
        {
            var problem = await ProblemAssert.IsProblemAsync(weak, HttpStatusCode.BadRequest, ct);
            var messages = problem.GetProperty("errors").GetProperty("password").EnumerateArray().Select(m => m.GetString()).ToList();
            Assert.Contains("Passwords must be at least 8 characters.", messages);
            Assert.Contains("Passwords must have at least one digit ('0'-'9').", messages);
            Assert.Contains("Passwords must have at least one uppercase ('A'-'Z').", messages);
            Assert.Contains("Passwords must have at least one non alphanumeric character.", messages);
        }

        // PostgreSQL cannot store a NUL character: the request's fault, told as such, and no account is made.
        using (var nul = await gateway.PostAsJsonAsync("/api/identity/users", new { email, password = ShopIdentityClient.NewPassword(), name = "Fir\u0000st" }, ct))
        {
            var problem = await ProblemAssert.IsProblemAsync(nul, HttpStatusCode.BadRequest, ct);
            Assert.Contains("U+0000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var created = await gateway.PostAsJsonAsync("/api/identity/users", new { email, password = ShopIdentityClient.NewPassword(), name = "First" }, ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var duplicate = await gateway.PostAsJsonAsync(
            "/api/identity/users", new { email = email.ToUpperInvariant(), password = ShopIdentityClient.NewPassword(), name = "Second" }, ct);
        var duplicateProblem = await ProblemAssert.IsProblemAsync(duplicate, HttpStatusCode.BadRequest, ct);
        Assert.Equal(
            [$"Email '{email.ToUpperInvariant()}' is already taken."],
            duplicateProblem.GetProperty("errors").GetProperty("email").EnumerateArray().Select(m => m.GetString()));
    }

    /// <summary>
    /// The running service folds addresses the way identity's unit tests do (NFKC): a process started without ICU
    /// left a fullwidth letter as it was, and the look-alike of an account's address got an account of its own.
    /// </summary>
    [Fact]
    public async Task An_address_that_only_looks_like_a_taken_one_is_refused_as_taken()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("look-alike", ct);
        // U+FF4B FULLWIDTH LATIN SMALL LETTER K for the "k"s of "look-alike": NFKC folds it to "k".
        var lookAlike = user.Email.Replace("look-alike", "look-alike".Replace('k', '\uff4b'), StringComparison.Ordinal);
        Assert.NotEqual(user.Email, lookAlike);
        using var gateway = _identity.CreateGatewayClient();

        using var response = await gateway.PostAsJsonAsync(
            "/api/identity/users", new { email = lookAlike, password = ShopIdentityClient.NewPassword(), name = "Look-alike" }, ct);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ct);
        Assert.Equal([$"Email '{lookAlike}' is already taken."], problem.GetProperty("errors").GetProperty("email").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task The_registration_page_shows_why_a_weak_password_or_a_taken_address_is_refused()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var existing = await _identity.RegisterAsync("taken", ct);
        using var browser = new BrowserSession();
        var registerUrl = new Uri(_identity.Gateway, "/account/register");

        async Task<IReadOnlyList<string>> SubmitAsync(string email, string password)
        {
            using var page = await browser.GetAsync(registerUrl, ct);
            var form = HtmlForm.Parse(await page.Content.ReadAsStringAsync(ct), "Input.Password");
            using var response = await browser.PostAsync(registerUrl, form.With(("Input.Name", "Grace"), ("Input.Email", email), ("Input.Password", password)), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return HtmlForm.Errors(await response.Content.ReadAsStringAsync(ct));
        }

        var weak = await SubmitAsync(ShopIdentityClient.NewEmail("page"), "password");
        Assert.Contains("Passwords must have at least one digit ('0'-'9').", weak);
        Assert.Contains("Passwords must have at least one uppercase ('A'-'Z').", weak);

        var taken = await SubmitAsync(existing.Email, ShopIdentityClient.NewPassword());
        Assert.Equal([$"Email '{existing.Email}' is already taken."], taken);
    }

    [Fact]
    public async Task A_profile_edit_with_an_incomplete_address_is_refused_field_by_field()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var user = await _identity.RegisterAsync("address", ct);
        var tokens = await _identity.SignInAsync(user, ct);
        using var gateway = _identity.CreateGatewayClient(tokens.AccessToken);

        using var response = await gateway.PutAsJsonAsync("/api/identity/users/me", new
        {
            name = "",
            shippingAddress = new { street = "1 Main Street", city = "", postalCode = (string?)null, country = "Ireland" },
        }, ct);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ct);
        var errors = problem.GetProperty("errors");
        Assert.Equal(["name", "shippingAddress.city", "shippingAddress.postalCode"], errors.EnumerateObject().Select(p => p.Name).Order());
        var profile = await gateway.GetFromJsonAsync<JsonElement>("/api/identity/users/me", ct);
        Assert.Equal(user.Name, profile.GetProperty("name").GetString());
    }
}
