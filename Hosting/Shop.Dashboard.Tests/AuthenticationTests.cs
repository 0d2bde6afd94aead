using System.Net;
using System.Net.Http.Headers;
using Shop.Dashboard.Tests.Infrastructure;

namespace Shop.Dashboard.Tests;

[Collection(SecuredDashboardCollection.Name)]
public sealed class AuthenticationTests(SecuredDashboardFixture fixture)
{
    private DashboardProcess Dashboard => fixture.Dashboard;

    [Fact]
    public async Task The_login_url_is_logged_at_start_with_the_configured_token()
    {
        using var timeout = Poll.Timeout();
        var loginUrl = await Dashboard.LoginUrl.WaitAsync(timeout.Token);
        Assert.Equal($"{Dashboard.FrontendUrl.ToString().TrimEnd('/')}/login?t={Dashboard.BrowserToken}", loginUrl);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/traces")]
    [InlineData("/structuredlogs")]
    [InlineData("/metrics")]
    public async Task Ui_without_a_token_redirects_to_sign_in(string page)
    {
        using var timeout = Poll.Timeout();
        using var client = Dashboard.CreateApiClient(authenticated: false);
        using var response = await client.GetAsync(page, timeout.Token);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_token_in_the_login_link_does_not_sign_in()
    {
        using var timeout = Poll.Timeout();
        var cookies = new CookieContainer();
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = Dashboard.FrontendUrl };
        using var login = await client.GetAsync("/login?t=wrong", timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Contains("not valid", await login.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);

        using var page = await client.GetAsync("/traces", timeout.Token);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
    }

    [Fact]
    public async Task The_login_link_sets_a_cookie_that_opens_the_ui_and_the_api()
    {
        using var timeout = Poll.Timeout();
        var cookies = new CookieContainer();
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = Dashboard.FrontendUrl };
        using var login = await client.GetAsync($"/login?t={Dashboard.BrowserToken}&returnUrl=%2Ftraces", timeout.Token);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/traces", login.Headers.Location!.OriginalString);

        using var page = await client.GetAsync("/traces", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<h1", await page.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);

        using var api = await client.GetAsync("/api/telemetry/resources", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task A_signed_out_cookie_is_refused_even_when_a_copy_is_sent_again()
    {
        using var timeout = Poll.Timeout();
        var cookies = new CookieContainer();
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = Dashboard.FrontendUrl };
        using (var login = await client.GetAsync($"/login?t={Dashboard.BrowserToken}", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        }

        var copy = cookies.GetCookieHeader(Dashboard.FrontendUrl);
        using (var signedIn = await Get(copy))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        using (var logout = await client.GetAsync("/logout", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        }

        using var signedOut = await Get(copy);
        Assert.Equal(HttpStatusCode.Unauthorized, signedOut.StatusCode);

        async Task<HttpResponseMessage> Get(string cookie)
        {
            using var anonymous = Dashboard.CreateApiClient(authenticated: false);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/telemetry/resources");
            request.Headers.Add("Cookie", cookie);
            return await anonymous.SendAsync(request, timeout.Token);
        }
    }

    [Fact]
    public async Task An_external_return_url_is_ignored()
    {
        using var timeout = Poll.Timeout();
        using var client = Dashboard.CreateApiClient(authenticated: false);
        using var login = await client.GetAsync($"/login?t={Dashboard.BrowserToken}&returnUrl=https%3A%2F%2Fexample.org%2F", timeout.Token);
        Assert.Equal("/", login.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("%2F%09%2Fevil.example")]
    [InlineData("%2F%0A%2Fevil.example")]
    [InlineData("%2F%0D%2Fevil.example")]
    [InlineData("%2F%2Fevil.example")]
    [InlineData("%2F%5Cevil.example")]
    public async Task A_return_url_a_browser_could_read_as_another_site_is_ignored(string returnUrl)
    {
        using var timeout = Poll.Timeout();
        using var client = Dashboard.CreateApiClient(authenticated: false);
        using var login = await client.GetAsync($"/login?t={Dashboard.BrowserToken}&returnUrl={returnUrl}", timeout.Token);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/", login.Headers.Location!.OriginalString);

        // The sign-in form carries the return URL on in a hidden field: the same check applies there.
        using var form = await client.GetAsync($"/login?returnUrl={returnUrl}", timeout.Token);
        Assert.Contains("name=\"returnUrl\" value=\"/\"", await form.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/telemetry/resources")]
    [InlineData("/api/telemetry/logs")]
    [InlineData("/api/telemetry/traces")]
    [InlineData("/api/telemetry/metrics")]
    [InlineData("/api/resources")]
    public async Task Api_without_or_with_a_wrong_token_answers_401(string path)
    {
        using var timeout = Poll.Timeout();
        using var anonymous = Dashboard.CreateApiClient(authenticated: false);
        using (var response = await anonymous.GetAsync(path, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var wrongBearer = new HttpRequestMessage(HttpMethod.Get, path);
        wrongBearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using (var response = await anonymous.SendAsync(wrongBearer, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var wrongKey = new HttpRequestMessage(HttpMethod.Get, path);
        wrongKey.Headers.Add("x-dashboard-api-key", "wrong");
        using (var response = await anonymous.SendAsync(wrongKey, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Api_accepts_the_token_as_bearer_or_api_key_header()
    {
        using var timeout = Poll.Timeout();
        using var bearer = Dashboard.CreateApiClient();
        using (var response = await bearer.GetAsync("/api/telemetry/traces", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var anonymous = Dashboard.CreateApiClient(authenticated: false);
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/api/telemetry/logs");
        withKey.Headers.Add("x-dashboard-api-key", Dashboard.BrowserToken);
        using (var response = await anonymous.SendAsync(withKey, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Bad_api_queries_get_problem_details()
    {
        using var timeout = Poll.Timeout();
        using var api = Dashboard.CreateApiClient();
        foreach (var query in new[] { "/api/telemetry/logs?level=loud", "/api/telemetry/logs?limit=0", "/api/telemetry/traces?minDurationMs=-1", "/api/telemetry/traces/not-a-trace-id" })
        {
            using var response = await api.GetAsync(query, timeout.Token);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using var missing = await api.GetAsync($"/api/telemetry/traces/{new string('a', 32)}", timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var standalone = await api.GetAsync("/api/resources", timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, standalone.StatusCode);
    }

    [Fact]
    public async Task The_allow_anonymous_switch_does_not_override_auth_modes_set_explicitly()
    {
        using var timeout = Poll.Timeout();
        await using var dashboard = await DashboardProcess.StartAsync(
            new Dictionary<string, string> { ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true" }, cancellationToken: timeout.Token);
        using var client = dashboard.CreateApiClient(authenticated: false);
        using var api = await client.GetAsync("/api/telemetry/traces", timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);

        using var otlp = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        using var export = await otlp.PostAsync("/v1/traces", new ByteArrayContent([]) { Headers = { ContentType = new MediaTypeHeaderValue("application/x-protobuf") } }, timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, export.StatusCode);
    }

    [Fact]
    public async Task An_unhandled_error_is_answered_without_details_even_in_development()
    {
        using var timeout = Poll.Timeout();
        using var client = Dashboard.CreateApiClient();

        // Blazor throws when a query parameter does not parse; the dashboard runs in Development here, as under the AppHost.
        using var response = await client.GetAsync("/traces?minDurationMs=not-a-number", timeout.Token);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(timeout.Token);
        Assert.DoesNotContain(Dashboard.BrowserToken!, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-number", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("multipart/form-data")]
    public async Task Posting_something_other_than_a_form_to_login_is_a_bad_request(string contentType)
    {
        using var timeout = Poll.Timeout();
        using var client = Dashboard.CreateApiClient(authenticated: false);
        using var content = new StringContent("token=x");
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await client.PostAsync("/login", content, timeout.Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_sign_in_cookie_does_not_open_another_dashboard_started_with_another_token()
    {
        using var timeout = Poll.Timeout();
        await using var other = await DashboardProcess.StartAsync(cancellationToken: timeout.Token);

        // One cookie jar for both, as in a browser: cookies are not kept apart by port.
        var cookies = new CookieContainer();
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = cookies };
        using var client = new HttpClient(handler);
        using var login = await client.GetAsync(new Uri(Dashboard.FrontendUrl, $"/login?t={Dashboard.BrowserToken}"), timeout.Token);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        using (var signedIn = await client.GetAsync(new Uri(Dashboard.FrontendUrl, "/api/telemetry/resources"), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        using (var elsewhere = await client.GetAsync(new Uri(other.FrontendUrl, "/api/telemetry/resources"), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, elsewhere.StatusCode);
        }

        // Even under the other dashboard's cookie name, the cookie is not accepted there.
        var cookie = Assert.Single(cookies.GetCookies(Dashboard.FrontendUrl), c => c.Name.StartsWith(".Shop.Dashboard.Auth", StringComparison.Ordinal));
        var otherName = cookie.Name.Replace(Dashboard.FrontendUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), other.FrontendUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using var replayed = new HttpRequestMessage(HttpMethod.Get, "/api/telemetry/resources");
        replayed.Headers.Add("Cookie", $"{otherName}={cookie.Value}");
        using var anonymous = other.CreateApiClient(authenticated: false);
        using var response = await anonymous.SendAsync(replayed, timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Unsecured_mode_needs_no_token()
    {
        using var timeout = Poll.Timeout();
        await using var dashboard = await DashboardProcess.StartAsync(secured: false, cancellationToken: timeout.Token);
        using var client = dashboard.CreateApiClient(authenticated: false);
        using var page = await client.GetAsync("/traces", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var api = await client.GetAsync("/api/telemetry/traces", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.DoesNotContain("Login to the dashboard", dashboard.Output, StringComparison.Ordinal);
    }
}
