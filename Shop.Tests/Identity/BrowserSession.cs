using System.Net;

namespace Shop.Tests.Identity;

/// <summary>
/// What a browser does that matters here: a cookie jar shared by every host (cookies ignore ports, so the storefront
/// and the gateway on localhost share it, as in a real browser), and redirects followed one by one, so a test sees
/// each hop.
/// </summary>
internal sealed class BrowserSession : IDisposable
{
    private const int MaxRedirects = 10;

    public BrowserSession()
    {
        Http = new HttpClient(new SocketsHttpHandler
        {
            CookieContainer = Cookies,
            AllowAutoRedirect = false,
            UseProxy = false,
        });
    }

    public CookieContainer Cookies { get; } = new();

    public HttpClient Http { get; }

    public Task<HttpResponseMessage> GetAsync(Uri url, CancellationToken cancellationToken) => Http.GetAsync(url, cancellationToken);

    public Task<HttpResponseMessage> PostAsync(Uri url, HttpContent content, CancellationToken cancellationToken) =>
        Http.PostAsync(url, content, cancellationToken);

    /// <summary>
    /// Follows redirects from <paramref name="response"/> (disposing each intermediate response) until one is not a
    /// redirect, or until the next hop would leave for <paramref name="stopBefore"/>, whose URL is then returned instead.
    /// </summary>
    public async Task<(HttpResponseMessage Response, Uri Url)> FollowAsync(
        HttpResponseMessage response, Uri url, CancellationToken cancellationToken, Func<Uri, bool>? stopBefore = null)
    {
        for (var hop = 0; hop < MaxRedirects; hop++)
        {
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is null)
            {
                return (response, url);
            }

            var next = new Uri(url, response.Headers.Location);
            if (stopBefore?.Invoke(next) == true)
            {
                return (response, next);
            }

            response.Dispose();
            url = next;
            response = await Http.GetAsync(url, cancellationToken);
        }

        throw new InvalidOperationException($"More than {MaxRedirects} redirects, the last to {url}.");
    }

    public void Dispose() => Http.Dispose();
}
