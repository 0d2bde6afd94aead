using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Tests.Identity;

namespace Shop.Tests.Checkout;

/// <summary>A product made for one test, so its stock is the test's own.</summary>
internal sealed record TestProduct(int Id, string Name, decimal Price);

/// <summary>A product's stock as the products service's admin API reports it.</summary>
internal sealed record StockLevel(int ProductId, int AvailableStock, int ReservedStock, int OnHand);

/// <summary>
/// Drives checkouts through the running app the way clients do: shoppers registered and signed in through the
/// gateway, products and stock set up by the demo admin through the catalog admin API, and the payment gateway
/// simulator switched and inspected through its admin API (with the AppHost's generated admin key).
/// </summary>
internal sealed class CheckoutDriver(DistributedApplication app)
{
    public static readonly string[] FinalStatuses = ["Confirmed", "Cancelled"];

    private string? _adminToken;

    public ShopIdentityClient Identity { get; } = new(app);

    public DistributedApplication App => app;

    public SimulatorClient Simulator { get; } = new(app);

    /// <summary>A new user, registered and signed in (a user of their own keeps a test's orders and rate limit apart).</summary>
    public async Task<Shopper> NewShopperAsync(string purpose, CancellationToken cancellationToken) =>
        await SignInAsync(await Identity.RegisterAsync(purpose, cancellationToken), cancellationToken);

    /// <summary>The user, signed in afresh: a new access token.</summary>
    public async Task<Shopper> SignInAsync(TestUser user, CancellationToken cancellationToken)
    {
        var tokens = await Identity.SignInAsync(user, cancellationToken);
        return new Shopper(user, tokens.AccessToken, Identity.CreateGatewayClient(tokens.AccessToken));
    }

    public async Task<HttpClient> AdminAsync(CancellationToken cancellationToken)
    {
        _adminToken ??= (await Identity.SignInAsync(ShopIdentityClient.DemoAdmin, cancellationToken)).AccessToken;
        return Identity.CreateGatewayClient(_adminToken);
    }

    /// <summary>
    /// A resource's structured logs since <paramref name="since"/>, as the dashboard received them over OTLP (a second
    /// or so after they were written), optionally only those containing <paramref name="text"/> or at
    /// <paramref name="level"/> and above.
    /// </summary>
    public async Task<List<JsonElement>> LogsAsync(string resource, DateTimeOffset since, CancellationToken cancellationToken, string? text = null, string? level = null)
    {
        var login = app.GetDashboardLoginUrl();
        using var dashboard = new HttpClient { BaseAddress = new Uri(login.GetLeftPart(UriPartial.Authority)) };
        dashboard.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", login.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("t=", StringComparison.Ordinal))[2..]);
        var query = $"/api/telemetry/logs?resource={Uri.EscapeDataString(resource)}&limit=500";
        query += text is null ? "" : $"&text={Uri.EscapeDataString(text)}";
        query += level is null ? "" : $"&level={level}";
        var logs = await dashboard.GetFromJsonAsync<JsonElement>(query, cancellationToken);
        return [.. logs.GetProperty("logs").EnumerateArray().Where(l => l.GetProperty("timestamp").GetDateTimeOffset() >= since).Select(l => l.Clone())];
    }

    /// <summary>Creates a product with <paramref name="stock"/> units, as an admin would, with the catalog's first brand and category.</summary>
    public async Task<TestProduct> CreateProductAsync(int stock, decimal price, CancellationToken cancellationToken)
    {
        using var admin = await AdminAsync(cancellationToken);
        var brand = (await admin.GetFromJsonAsync<JsonElement>("/api/products/brands", cancellationToken))[0].GetProperty("id").GetInt32();
        var category = (await admin.GetFromJsonAsync<JsonElement>("/api/products/categories", cancellationToken))[0].GetProperty("id").GetInt32();
        var name = "Checkout test " + Guid.NewGuid().ToString("N")[..12];
        using var response = await admin.PostAsJsonAsync("/api/products/items", new
        {
            name,
            description = "A product made by a checkout test.",
            price,
            brandId = brand,
            categoryId = category,
            availableStock = stock,
        }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Creating a product answered {(int)response.StatusCode}: {body}");
        return new TestProduct(JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32(), name, price);
    }

    public async Task<StockLevel> StockAsync(int productId, CancellationToken cancellationToken)
    {
        using var admin = await AdminAsync(cancellationToken);
        return (await admin.GetFromJsonAsync<StockLevel>($"/api/products/items/{productId}/stock", cancellationToken))!;
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds for its result, or fails the test at the deadline.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, CancellationToken cancellationToken, int intervalMs = 250)
    {
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            try
            {
                await Task.Delay(intervalMs, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}; last seen: {Describe(value)}");
            }
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        JsonElement json => json.GetRawText(),
        System.Collections.IEnumerable list and not string => "[" + string.Join(", ", list.Cast<object?>().Select(o => o is JsonElement j ? j.GetRawText() : o?.ToString())) + "]",
        _ => value?.ToString() ?? "null",
    };
}

/// <summary>A signed-in user ordering through the gateway.</summary>
internal sealed class Shopper(TestUser user, string accessToken, HttpClient gateway) : IDisposable
{
    public TestUser User => user;

    public string AccessToken => accessToken;

    public HttpClient Gateway => gateway;

    public static object Cart(params (int ProductId, int Quantity)[] items) =>
        new { items = items.Select(i => new { productId = i.ProductId, quantity = i.Quantity }).ToArray() };

    public async Task<HttpResponseMessage> PostOrderAsync(object body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ordering/orders") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await gateway.SendAsync(request, cancellationToken);
    }

    /// <summary>Places an order with a new key and returns its id; the order must be accepted (201).</summary>
    public Task<Guid> PlaceOrderAsync(CancellationToken cancellationToken, params (int ProductId, int Quantity)[] items) =>
        PlaceOrderAsync(Guid.NewGuid().ToString(), cancellationToken, items);

    /// <summary>Places an order with the given key and returns its id; the order must be accepted (201).</summary>
    public async Task<Guid> PlaceOrderAsync(string idempotencyKey, CancellationToken cancellationToken, params (int ProductId, int Quantity)[] items)
    {
        using var response = await PostOrderAsync(Cart(items), idempotencyKey, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Placing an order answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> GetOrderAsync(Guid orderId, CancellationToken cancellationToken)
    {
        using var response = await gateway.GetAsync($"/api/ordering/orders/{orderId}", cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Reading order {orderId} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<List<JsonElement>> ListOrdersAsync(CancellationToken cancellationToken)
    {
        var page = await gateway.GetFromJsonAsync<JsonElement>("/api/ordering/orders?pageSize=100", cancellationToken);
        return [.. page.GetProperty("data").EnumerateArray().Select(o => o.Clone())];
    }

    public async Task<List<JsonElement>> PaymentsAsync(Guid orderId, CancellationToken cancellationToken) =>
        [.. (await gateway.GetFromJsonAsync<JsonElement>($"/api/payment/payments?orderId={orderId}", cancellationToken)).EnumerateArray().Select(p => p.Clone())];

    /// <summary>
    /// Follows the order's status stream (server-sent events) until its final status, and returns the order then. The
    /// stream ends by itself after a final status; <paramref name="cancellationToken"/> bounds the wait.
    /// </summary>
    public async Task<(JsonElement Order, List<JsonElement> Events)> WaitUntilFinalAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var events = await ReadStatusStreamAsync($"/api/ordering/orders/{orderId}/events", null, e => e.GetProperty("isFinal").GetBoolean(), cancellationToken);
        return (await GetOrderAsync(orderId, cancellationToken), events);
    }

    /// <summary>Reads <c>event: status</c> events from a stream until <paramref name="until"/> holds for one (or the stream ends).</summary>
    public async Task<List<JsonElement>> ReadStatusStreamAsync(string path, string? lastEventId, Func<JsonElement, bool> until, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var events = new List<JsonElement>();
        string? id = null, type = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && type == "status")
            {
                var change = JsonDocument.Parse(line[6..]).RootElement.Clone();
                // One order's stream resumes by history id; the stream of all orders by a cursor of transaction ids
                // (Services/Ordering.Api/README.md), which is no change's id.
                if (path.EndsWith("/orders/events", StringComparison.Ordinal))
                {
                    Assert.True(long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _), $"The event id {id} is not a cursor.");
                }
                else
                {
                    Assert.Equal(id, change.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture));
                }

                events.Add(change);
                if (until(change))
                {
                    break;
                }
            }
        }

        return events;
    }

    public void Dispose() => gateway.Dispose();
}

/// <summary>The payment gateway simulator's admin API: behaviour switches, ledger and statistics.</summary>
internal sealed class SimulatorClient(DistributedApplication app)
{
    private HttpClient CreateClient()
    {
        var http = app.CreateHttpClient("payment-gateway");
        http.DefaultRequestHeaders.Add("X-Admin-Key", new ShopIdentityClient(app).Parameter("payment-gateway-admin-key"));
        return http;
    }

    /// <summary>Changes the simulator's behaviour (e.g. <c>new { failureRate = 1.0 }</c>) until the returned scope is disposed.</summary>
    public async Task<IAsyncDisposable> ChangeAsync(object behavior, CancellationToken cancellationToken)
    {
        using (var http = CreateClient())
        {
            using var response = await http.PutAsJsonAsync("/admin/behavior", behavior, cancellationToken);
            response.EnsureSuccessStatusCode();
        }

        return new Reset(this);
    }

    /// <summary>The behaviour in force: the configured one, unless a test has changed it.</summary>
    public async Task<JsonElement> BehaviorAsync(CancellationToken cancellationToken)
    {
        using var http = CreateClient();
        return await http.GetFromJsonAsync<JsonElement>("/admin/behavior", cancellationToken);
    }

    public async Task ResetAsync()
    {
        using var http = CreateClient();
        using var response = await http.DeleteAsync("/admin/behavior");
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The charges and refunds the gateway made for an order (its reference is the order id).</summary>
    public async Task<List<JsonElement>> LedgerAsync(Guid orderId, CancellationToken cancellationToken)
    {
        using var http = CreateClient();
        return [.. (await http.GetFromJsonAsync<JsonElement>($"/admin/ledger?reference={orderId}", cancellationToken)).EnumerateArray().Select(e => e.Clone())];
    }

    public async Task<JsonElement> StatisticsAsync(CancellationToken cancellationToken)
    {
        using var http = CreateClient();
        return await http.GetFromJsonAsync<JsonElement>("/admin/stats", cancellationToken);
    }

    private sealed class Reset(SimulatorClient simulator) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await simulator.ResetAsync();
    }
}

internal static class LedgerExtensions
{
    public static int Count(this IEnumerable<JsonElement> ledger, string type, string status) =>
        ledger.Count(e => e.GetProperty("type").GetString() == type && e.GetProperty("status").GetString() == status);

    /// <summary>Money the gateway kept: succeeded charges less refunds.</summary>
    public static decimal NetCharged(this IEnumerable<JsonElement> ledger) =>
        ledger.Sum(e => (e.GetProperty("type").GetString(), e.GetProperty("status").GetString()) switch
        {
            ("charge", "succeeded") => e.GetProperty("amount").GetDecimal(),
            ("refund", "succeeded") => -e.GetProperty("amount").GetDecimal(),
            _ => 0m,
        });

    public static string Status(this JsonElement order) => order.GetProperty("status").GetString()!;

    /// <summary>
    /// A cancelled order's payments, settled with no money kept: none pending, and a charge that went through (it raced
    /// with the cancellation) has its refund.
    /// </summary>
    public static bool SettledWithNothingKept(this IReadOnlyList<JsonElement> payments) =>
        payments.Count > 0
        && payments.All(p => p.GetProperty("status").GetString() != "Pending")
        && (payments.All(p => p.GetProperty("status").GetString() != "Succeeded") || payments.Any(p => p.GetProperty("kind").GetString() == "Refund"));
}
