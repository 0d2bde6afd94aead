using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gateway.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests;

/// <summary>
/// The gateway's routes as configured (<see cref="ProxyHeaderEncoding"/>, failed forwards answered as the gateway does)
/// in front of a stand-in for ordering that echoes the <c>Idempotency-Key</c> it received, in its body or in a header of
/// its answer: a non-ASCII value, which Kestrel reads as UTF-8, reaches the service intact and the caller gets the
/// service's status, not a 502 from the proxy's HttpClient refusing to write it; a service's non-ASCII answer header
/// comes back as sent. The routes' policies allow everyone here (<see cref="RoutePolicyTests"/>).
/// </summary>
public sealed class HeaderEncodingTests : IAsyncLifetime
{
    private const string IdempotencyKey = "Idempotency-Key";
    private const string EchoedKey = "X-Echoed-Idempotency-Key";
    private const string OrdersPath = "/api/ordering/orders";
    private const string HeaderEchoPath = "/api/ordering/orders-echoing-the-key";

    private WebApplication _ordering = null!;
    private WebApplication _gateway = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _ordering = KestrelApps.CreateSlim(
            app =>
            {
                app.MapPost(OrdersPath, (HttpRequest request) =>
                    TypedResults.Created($"{OrdersPath}/1", request.Headers[IdempotencyKey].ToString()));
                // Apart from the body's echo, so that the request's direction is proven on its own.
                app.MapPost(HeaderEchoPath, (HttpRequest request, HttpResponse response) =>
                {
                    response.Headers[EchoedKey] = request.Headers[IdempotencyKey];
                    return TypedResults.Created($"{OrdersPath}/1");
                });
            },
            // Kestrel refuses non-ASCII answer headers unless told how to write them.
            builder => builder.WebHost.ConfigureKestrel(kestrel => kestrel.ResponseHeaderEncodingSelector = _ => Encoding.UTF8));
        await _ordering.StartAsync();

        _gateway = KestrelApps.CreateGatewayTo("ordering", _ordering, proxy => proxy.ForwardHeadersAsUtf8());
        await _gateway.StartAsync();

        // The caller's own HttpClient would refuse to write a non-ASCII value too, and read one back as Latin-1.
        var handler = new SocketsHttpHandler
        {
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            ResponseHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        };
        _client = new HttpClient(handler) { BaseAddress = new Uri(KestrelApps.AddressOf(_gateway)) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _ordering.DisposeAsync();
    }

    [Theory]
    [InlineData("ключ-1")]
    [InlineData("crème-brûlée-2")]
    public async Task A_non_ASCII_header_value_reaches_the_service_intact(string idempotencyKey)
    {
        using var response = await PostAsync(OrdersPath, idempotencyKey);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(idempotencyKey, await response.Content.ReadFromJsonAsync<string>());
    }

    [Theory]
    [InlineData("ключ-1")]
    [InlineData("crème-brûlée-2")]
    public async Task A_non_ASCII_header_value_in_the_services_answer_reaches_the_caller_intact(string idempotencyKey)
    {
        using var response = await PostAsync(HeaderEchoPath, idempotencyKey);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(idempotencyKey, Assert.Single(response.Headers.GetValues(EchoedKey)));
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation(IdempotencyKey, idempotencyKey);
        return await _client.SendAsync(request);
    }
}
