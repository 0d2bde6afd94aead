using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Shop.Hosting;
using Shop.Hosting.Testing;
using Shop.Tests.Identity;

namespace Shop.Tests.Products;

/// <summary>One line of an order as ordering publishes it.</summary>
internal sealed record OrderLine(int ProductId, int Quantity, decimal UnitPrice);

/// <summary>
/// Works the products service as its clients do: the catalog through the gateway, the admin API with the demo admin's
/// token, and the checkout saga's events put on the real broker the way ordering publishes them.
/// </summary>
internal sealed class CatalogDriver(DistributedApplication app)
{
    public const string OrdersTopic = "ordering.orders";
    public const string StockTopic = "products.stock";
    public const string CatalogTopic = "products.catalog";

    // Tokens live 15 minutes; one sign-in serves a whole run's worth of tests.
    private static readonly SemaphoreSlim AdminLock = new(1, 1);
    private static (DistributedApplication App, string Token, DateTime ObtainedAt)? s_admin;

    public ShopIdentityClient Identity { get; } = new(app);

    public DistributedApplication App => app;

    public async Task<string> AdminTokenAsync(CancellationToken cancellationToken)
    {
        await AdminLock.WaitAsync(cancellationToken);
        try
        {
            if (s_admin is not { } admin || admin.App != app || DateTime.UtcNow - admin.ObtainedAt > TimeSpan.FromMinutes(10))
            {
                var tokens = await Identity.SignInAsync(ShopIdentityClient.DemoAdmin, cancellationToken);
                s_admin = admin = (app, tokens.AccessToken, DateTime.UtcNow);
            }

            return admin.Token;
        }
        finally
        {
            AdminLock.Release();
        }
    }

    /// <summary>The admin API through the gateway, as an admin's browser reaches it.</summary>
    public async Task<HttpClient> AdminThroughGatewayAsync(CancellationToken cancellationToken) =>
        Identity.CreateGatewayClient(await AdminTokenAsync(cancellationToken));

    /// <summary>
    /// The admin API straight to the service (which checks tokens itself), for a test's setup and polling: it keeps
    /// them out of the gateway's per-user rate limit, which other tests of the run share.
    /// </summary>
    public async Task<HttpClient> AdminDirectAsync(CancellationToken cancellationToken) =>
        Identity.CreateClient("products", await AdminTokenAsync(cancellationToken));

    public HttpClient Anonymous() => Identity.CreateGatewayClient();

    /// <summary>A product of the test's own, named uniquely, so its stock and cache entries are the test's alone.</summary>
    public async Task<JsonElement> CreateProductAsync(int stock, decimal price, CancellationToken cancellationToken, string? name = null)
    {
        using var admin = await AdminDirectAsync(cancellationToken);
        var brands = await admin.GetFromJsonAsync<JsonElement>("/api/products/brands", cancellationToken);
        var categories = await admin.GetFromJsonAsync<JsonElement>("/api/products/categories", cancellationToken);
        using var response = await admin.PostAsJsonAsync("/api/products/items", new
        {
            name = name ?? "Test product " + Guid.NewGuid().ToString("N")[..12],
            description = "Made by a products test.",
            price,
            brandId = brands[0].GetProperty("id").GetInt32(),
            categoryId = categories[0].GetProperty("id").GetInt32(),
            availableStock = stock,
        }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Creating a product answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<(int Available, int Reserved)> StockAsync(int productId, CancellationToken cancellationToken)
    {
        using var admin = await AdminDirectAsync(cancellationToken);
        var stock = await admin.GetFromJsonAsync<JsonElement>($"/api/products/items/{productId}/stock", cancellationToken);
        Assert.Equal(stock.GetProperty("availableStock").GetInt32() + stock.GetProperty("reservedStock").GetInt32(), stock.GetProperty("onHand").GetInt32());
        return (stock.GetProperty("availableStock").GetInt32(), stock.GetProperty("reservedStock").GetInt32());
    }

    /// <summary>What inventory did for the order, or null while it has done nothing.</summary>
    public async Task<string?> ReservationStatusAsync(Guid orderId, CancellationToken cancellationToken)
    {
        using var admin = await AdminDirectAsync(cancellationToken);
        using var response = await admin.GetAsync($"/api/products/reservations/{orderId}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("status").GetString();
    }

    /// <summary>Polls until the order's reservation has <paramref name="status"/>.</summary>
    public async Task WaitForReservationAsync(Guid orderId, string status, CancellationToken cancellationToken)
    {
        string? seen = null;
        while (seen != status)
        {
            try
            {
                await Task.Delay(seen is null ? 50 : 100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"Order {orderId}'s reservation never became {status}; last seen: {seen ?? "none"}.");
            }

            seen = await ReservationStatusAsync(orderId, cancellationToken);
        }
    }

    /// <summary>
    /// Puts ordering's events on the broker, in order, as ordering's outbox would: on the orders topic, each keyed by
    /// its key (the order id, unless a test wants two orders on one partition), with the event type header the bus
    /// routes by and the payload as JSON with web naming.
    /// </summary>
    public async Task PublishAsync(IEnumerable<(string Key, OrderEvent Event)> messages, CancellationToken cancellationToken)
    {
        var kafka = await app.GetKafkaClientConfigAsync("kafka", cancellationToken);

        // kcat puts the same headers on every message of a run, so each run of events of one type is a kcat run of
        // its own; each waits until the broker has its messages, so the order given is the order on each partition.
        var pending = new List<(string Key, OrderEvent Event)>();
        foreach (var message in messages.Select(m => ((string, OrderEvent)?)m).Append(null))
        {
            if (pending.Count > 0 && (message is null || message.Value.Item2.Type != pending[0].Event.Type))
            {
                await Kcat.ProduceAsync(
                    kafka, OrdersTopic, new Dictionary<string, string> { ["event-type"] = pending[0].Event.Type },
                    pending.Select(m => (m.Key, JsonSerializer.Serialize(m.Event.Payload, JsonSerializerOptions.Web))), cancellationToken);
                pending.Clear();
            }

            if (message is { } next)
            {
                pending.Add(next);
            }
        }
    }

    /// <summary>Events of one order, keyed by <paramref name="key"/>.</summary>
    public Task PublishAsync(string key, CancellationToken cancellationToken, params OrderEvent[] events) =>
        PublishAsync(events.Select(e => (key, e)), cancellationToken);

    public Task PublishAsync(Guid orderId, CancellationToken cancellationToken, params OrderEvent[] events) =>
        PublishAsync(orderId.ToString(), cancellationToken, events);

    /// <summary>The messages a service published on <paramref name="topic"/> under <paramref name="key"/>: event type and payload.</summary>
    public async Task<List<(string Type, JsonElement Payload)>> PublishedAsync(string topic, string key, CancellationToken cancellationToken)
    {
        var kafka = await app.GetKafkaClientConfigAsync("kafka", cancellationToken);
        return [.. (await Kcat.ConsumeAllAsync(kafka, topic, cancellationToken))
            .Where(m => m.Key == key)
            .Select(m => (EventType(m.Headers), JsonDocument.Parse(m.Value).RootElement.Clone()))];
    }

    private static string EventType(string headers) =>
        headers.Split(',').Select(h => h.Split('=', 2)).Where(h => h is ["event-type", _]).Select(h => h[1]).SingleOrDefault() ?? "";
}

/// <summary>An event of ordering's, with its type name (the header the bus routes by) and its payload.</summary>
internal sealed record OrderEvent(string Type, object Payload)
{
    public static OrderEvent Submitted(Guid orderId, params OrderLine[] lines) => Submitted(Guid.NewGuid(), orderId, lines);

    /// <summary>With a given event id, to deliver the very same event twice.</summary>
    public static OrderEvent Submitted(Guid eventId, Guid orderId, params OrderLine[] lines) => new(
        "OrderSubmittedIntegrationEvent",
        new { id = eventId, creationDate = DateTimeOffset.UtcNow, orderId, buyerId = "products-test", lines, total = lines.Sum(l => l.Quantity * l.UnitPrice) });

    public static OrderEvent Confirmed(Guid orderId, params OrderLine[] lines) => new(
        "OrderConfirmedIntegrationEvent", new { id = Guid.NewGuid(), creationDate = DateTimeOffset.UtcNow, orderId, lines });

    public static OrderEvent Cancelled(Guid orderId) => Cancelled(Guid.NewGuid(), orderId);

    public static OrderEvent Cancelled(Guid eventId, Guid orderId) => new(
        "OrderCancelledIntegrationEvent", new { id = eventId, creationDate = DateTimeOffset.UtcNow, orderId, reason = "products test" });
}
