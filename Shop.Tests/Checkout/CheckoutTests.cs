using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Shop.Hosting.Testing;
using Shop.Tests.Identity;
using Xunit.Abstractions;

namespace Shop.Tests.Checkout;

/// <summary>Issue 6, items 1–3: the checkout saga through the gateway, with the real broker, databases and payment gateway simulator.</summary>
[Collection(ShopAppCollection.Name)]
public sealed class CheckoutTests(ShopAppFixture shop, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly CheckoutDriver _checkout = new(shop.App);

    public async Task InitializeAsync()
    {
        shop.Output = output;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await shop.App.ResourceNotifications.WaitForResourceHealthyAsync("payment-gateway", timeout.Token);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_order_is_confirmed_with_its_stock_sold_and_one_charge_and_the_whole_flow_is_one_trace()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 5, price: 19.99m, ct);
        using var shopper = await _checkout.NewShopperAsync("happy", ct);

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ordering/orders") { Content = JsonContent.Create(Shopper.Cart((product.Id, 2))) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await shopper.Gateway.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var placed = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        var orderId = placed.GetProperty("id").GetGuid();
        Assert.Equal($"/api/ordering/orders/{orderId}", response.Headers.Location?.OriginalString);
        Assert.Equal("Submitted", placed.Status());
        Assert.Equal(39.98m, placed.GetProperty("total").GetDecimal());

        var (order, events) = await shopper.WaitUntilFinalAsync(orderId, ct);

        Assert.Equal("Confirmed", order.Status());
        Assert.Equal(["Submitted", "StockReserved", "Paid", "Confirmed"], events.Select(e => e.Status()));
        Assert.Equal(["Submitted", "StockReserved", "Paid", "Confirmed"], order.GetProperty("history").EnumerateArray().Select(h => h.Status()));
        var line = Assert.Single(order.GetProperty("lines").EnumerateArray());
        Assert.Equal((product.Name, 19.99m, 2), (line.GetProperty("productName").GetString(), line.GetProperty("unitPrice").GetDecimal(), line.GetProperty("quantity").GetInt32()));

        // Confirmation turns the reservation into a sale: two units leave stock for good.
        var stock = await CheckoutDriver.EventuallyAsync(() => _checkout.StockAsync(product.Id, ct), s => s.ReservedStock == 0, "the reservation to become a sale", ct);
        Assert.Equal(new StockLevel(product.Id, 3, 0, 3), stock);

        var payment = Assert.Single(await shopper.PaymentsAsync(orderId, ct));
        Assert.Equal(("Charge", "Succeeded", 39.98m), (payment.GetProperty("kind").GetString(), payment.GetProperty("status").GetString(), payment.GetProperty("amount").GetDecimal()));
        var ledger = await _checkout.Simulator.LedgerAsync(orderId, ct);
        Assert.Equal(39.98m, Assert.Single(ledger).GetProperty("amount").GetDecimal());
        Assert.Equal(1, ledger.Count("charge", "succeeded"));

        // One trace: the gateway, ordering, products, payment and the payment gateway, joined by Kafka producer and
        // consumer spans. Each service exports its spans on its own schedule, so the test waits for every one it names.
        // The gateway forwards under its own request span (no client span per forward); ordering's HttpClient call to
        // price the order at products is a span of its own.
        (string What, Func<(string Resource, string Name, string Kind), bool> Matches)[] expected =
        [
            ("the gateway's request", s => s.Kind == "Server" && s.Resource == "gateway" && s.Name.StartsWith("POST", StringComparison.Ordinal)),
            ("ordering's request", s => s.Kind == "Server" && s.Resource == "ordering" && s.Name.StartsWith("POST", StringComparison.Ordinal)),
            ("an ordering client call", s => s.Kind == "Client" && s.Resource == "ordering"),
            ("ordering producing to ordering.orders", s => s.Kind == "Producer" && s.Resource == "ordering" && s.Name.Contains("ordering.orders", StringComparison.Ordinal)),
            ("products consuming ordering.orders", s => s.Kind == "Consumer" && s.Resource == "products" && s.Name.Contains("ordering.orders", StringComparison.Ordinal)),
            ("products producing to products.stock", s => s.Kind == "Producer" && s.Resource == "products" && s.Name.Contains("products.stock", StringComparison.Ordinal)),
            ("ordering consuming products.stock", s => s.Kind == "Consumer" && s.Resource == "ordering" && s.Name.Contains("products.stock", StringComparison.Ordinal)),
            ("payment consuming ordering.orders", s => s.Kind == "Consumer" && s.Resource == "payment" && s.Name.Contains("ordering.orders", StringComparison.Ordinal)),
            ("payment producing to payment.payments", s => s.Kind == "Producer" && s.Resource == "payment" && s.Name.Contains("payment.payments", StringComparison.Ordinal)),
            ("ordering consuming payment.payments", s => s.Kind == "Consumer" && s.Resource == "ordering" && s.Name.Contains("payment.payments", StringComparison.Ordinal)),
            ("a payment-gateway span", s => s.Resource == "payment-gateway"),
        ];
        var spans = await CheckoutDriver.EventuallyAsync(
            () => TraceSpansAsync(traceId, ct),
            s => expected.All(e => s.Any(e.Matches)),
            $"trace {traceId} to hold: {string.Join("; ", expected.Select(e => e.What))}",
            ct,
            intervalMs: 500);
        Assert.All(expected, e => Assert.Contains(spans, s => e.Matches(s)));
    }

    /// <summary>
    /// The card gateway simulator runs as the AppHost's parameters say. The fixture sets a latency unlike the default,
    /// so a parameter that no longer reached the simulator would show here.
    /// </summary>
    [Fact]
    public async Task The_payment_gateway_simulator_behaves_as_the_AppHost_parameters_say()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var behavior = await _checkout.Simulator.BehaviorAsync(timeout.Token);

        Assert.Equal(ShopAppFixture.TestParameters["payment-gateway-latency-ms"], _checkout.Identity.Parameter("payment-gateway-latency-ms"));
        Assert.Equal(int.Parse(_checkout.Identity.Parameter("payment-gateway-latency-ms"), CultureInfo.InvariantCulture), behavior.GetProperty("latencyMs").GetInt32());
        Assert.Equal(double.Parse(_checkout.Identity.Parameter("payment-gateway-decline-rate"), CultureInfo.InvariantCulture), behavior.GetProperty("declineRate").GetDouble());
        Assert.Equal(double.Parse(_checkout.Identity.Parameter("payment-gateway-failure-rate"), CultureInfo.InvariantCulture), behavior.GetProperty("failureRate").GetDouble());
    }

    [Fact]
    public async Task Not_enough_stock_cancels_the_order_naming_the_product_and_nothing_is_charged()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 1, price: 5m, ct);
        using var shopper = await _checkout.NewShopperAsync("short", ct);

        var orderId = await shopper.PlaceOrderAsync(ct, (product.Id, 2));
        var (order, _) = await shopper.WaitUntilFinalAsync(orderId, ct);

        Assert.Equal("Cancelled", order.Status());
        Assert.Equal($"Not enough stock: {product.Name} (2 requested, 1 available)", order.GetProperty("cancellationReason").GetString());
        Assert.Equal(["Submitted", "Cancelled"], order.GetProperty("history").EnumerateArray().Select(h => h.Status()));
        Assert.Empty(await shopper.PaymentsAsync(orderId, ct));
        Assert.Empty(await _checkout.Simulator.LedgerAsync(orderId, ct));
        Assert.Equal(new StockLevel(product.Id, 1, 0, 1), await _checkout.StockAsync(product.Id, ct));
    }

    [Fact]
    public async Task A_declined_payment_cancels_the_order_and_releases_its_stock()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 4, price: 12.50m, ct);
        using var shopper = await _checkout.NewShopperAsync("declined", ct);

        JsonElement order;
        await using (await _checkout.Simulator.ChangeAsync(new { declineRate = 1.0 }, ct))
        {
            var orderId = await shopper.PlaceOrderAsync(ct, (product.Id, 3));
            (order, _) = await shopper.WaitUntilFinalAsync(orderId, ct);
        }

        var id = order.GetProperty("id").GetGuid();
        Assert.Equal("Cancelled", order.Status());
        Assert.Equal(["Submitted", "StockReserved", "Cancelled"], order.GetProperty("history").EnumerateArray().Select(h => h.Status()));
        Assert.Equal("Payment failed: Declined by the payment gateway (card_declined).", order.GetProperty("cancellationReason").GetString());
        var payment = Assert.Single(await shopper.PaymentsAsync(id, ct));
        Assert.Equal("Declined", payment.GetProperty("status").GetString());
        var ledger = await _checkout.Simulator.LedgerAsync(id, ct);
        Assert.Equal(1, ledger.Count("charge", "declined"));
        Assert.Equal(0m, ledger.NetCharged());

        // OrderCancelled released the three reserved units.
        var stock = await CheckoutDriver.EventuallyAsync(() => _checkout.StockAsync(product.Id, ct), s => s.ReservedStock == 0, "the reservation to be released", ct);
        Assert.Equal(new StockLevel(product.Id, 4, 0, 4), stock);
    }

    [Fact]
    public async Task The_same_Idempotency_Key_gives_one_order_and_one_charge_and_refuses_another_cart()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 10, price: 7m, ct);
        using var shopper = await _checkout.NewShopperAsync("idempotent", ct);
        var started = DateTimeOffset.UtcNow;
        var key = Guid.NewGuid().ToString();
        var cart = Shopper.Cart((product.Id, 1));

        // Three at once (a client retrying while its first request is still under way), then once more later.
        var racing = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => shopper.PostOrderAsync(cart, key, ct)));
        using var later = await shopper.PostOrderAsync(cart, key, ct);
        using var otherCart = await shopper.PostOrderAsync(Shopper.Cart((product.Id, 2)), key, ct);

        Assert.Single(racing, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(racing.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var answers = new List<JsonElement>();
        foreach (var response in racing.Append(later))
        {
            answers.Add(await response.Content.ReadFromJsonAsync<JsonElement>(ct));
        }

        var ids = answers.Select(a => a.GetProperty("id").GetGuid()).ToList();
        Assert.Single(ids.Distinct());
        // The first answer shows the order as every replay and later read does, to the microsecond stored.
        Assert.Single(answers.Select(a => a.GetProperty("createdAt").GetString()).Distinct());
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal("true", later.Headers.GetValues("Idempotent-Replayed").Single());
        var problem = await ProblemAssert.IsProblemAsync(otherCart, HttpStatusCode.UnprocessableEntity, ct);
        Assert.Equal(ids[0], problem.GetProperty("orderId").GetGuid());
        foreach (var response in racing)
        {
            response.Dispose();
        }

        var (order, _) = await shopper.WaitUntilFinalAsync(ids[0], ct);
        Assert.Equal("Confirmed", order.Status());
        Assert.Single(await shopper.ListOrdersAsync(ct));
        Assert.Equal(1, (await _checkout.Simulator.LedgerAsync(ids[0], ct)).Count("charge", "succeeded"));
        var stock = await CheckoutDriver.EventuallyAsync(() => _checkout.StockAsync(product.Id, ct), s => s.ReservedStock == 0, "the sale", ct);
        Assert.Equal(9, stock.OnHand);

        // A retry is what clients are told to do: ordering answers it without logging an error. An order placed after
        // the retries (another shopper's) marks how far the log export has got.
        using var next = await _checkout.NewShopperAsync("idempotent-next", ct);
        var marker = await next.PlaceOrderAsync(ct, ((await _checkout.CreateProductAsync(stock: 1, price: 1m, ct)).Id, 1));
        await CheckoutDriver.EventuallyAsync(
            () => _checkout.LogsAsync("ordering", started, ct, text: marker.ToString()), logs => logs.Count > 0, "ordering's log of the next order", ct);
        var errors = await _checkout.LogsAsync("ordering", started, ct, level: "Error");
        Assert.True(errors.Count == 0, $"ordering logged errors: {string.Join(" | ", errors.Select(e => e.GetProperty("message").GetString()))}");
    }

    [Fact]
    public async Task Status_changes_are_streamed_to_the_buyer_and_a_reconnecting_stream_resumes_after_Last_Event_ID()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 3, price: 3m, ct);
        using var shopper = await _checkout.NewShopperAsync("stream", ct);

        // The stream of all the buyer's orders, opened from the start of their history (Last-Event-ID 0), sees each
        // change once, whether it committed before the stream was listening or after.
        var live = shopper.ReadStatusStreamAsync("/api/ordering/orders/events", "0", e => e.GetProperty("isFinal").GetBoolean(), ct);
        var orderId = await shopper.PlaceOrderAsync(ct, (product.Id, 1));
        var events = await live;

        Assert.Equal(["Submitted", "StockReserved", "Paid", "Confirmed"], events.Select(e => e.Status()));
        Assert.All(events, e => Assert.Equal(orderId, e.GetProperty("orderId").GetGuid()));
        var ids = events.Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.Order(), ids);

        // A client that saw the first two changes reconnects with Last-Event-ID and gets only the rest.
        var resumed = await shopper.ReadStatusStreamAsync($"/api/ordering/orders/{orderId}/events", ids[1].ToString(System.Globalization.CultureInfo.InvariantCulture), _ => false, ct);
        Assert.Equal(["Paid", "Confirmed"], resumed.Select(e => e.Status()));

        // A client that saw the final change (a browser's EventSource reconnects with its id when the stream ends)
        // gets 204, which stops an EventSource from reconnecting, instead of a stream that would never send again.
        using var afterFinal = new HttpRequestMessage(HttpMethod.Get, $"/api/ordering/orders/{orderId}/events");
        afterFinal.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        afterFinal.Headers.Add("Last-Event-ID", ids[3].ToString(CultureInfo.InvariantCulture));
        using var ended = await shopper.Gateway.SendAsync(afterFinal, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);

        // Another buyer resuming at the same id learns nothing about the order, not even that it ended.
        using var stranger = await _checkout.NewShopperAsync("stream-stranger", ct);
        using var foreign = new HttpRequestMessage(HttpMethod.Get, $"/api/ordering/orders/{orderId}/events");
        foreign.Headers.Add("Last-Event-ID", ids[3].ToString(CultureInfo.InvariantCulture));
        using var refused = await stranger.Gateway.SendAsync(foreign, ct);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.NotFound, ct);

        // A Last-Event-ID no stream sent is a client's bug: refused, rather than read as 0 and answered with the
        // buyer's whole history.
        foreach (var (path, lastEventId) in new[] { ("/api/ordering/orders/events", "abc"), ("/api/ordering/orders/events", "-5"), ($"/api/ordering/orders/{orderId}/events", "99999999999999999999") })
        {
            using var malformed = new HttpRequestMessage(HttpMethod.Get, path);
            malformed.Headers.Add("Last-Event-ID", lastEventId);
            using var answer = await shopper.Gateway.SendAsync(malformed, HttpCompletionOption.ResponseHeadersRead, ct);
            var problem = await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.BadRequest, ct);
            Assert.True(problem.GetProperty("errors").TryGetProperty("Last-Event-ID", out _), $"{path} with {lastEventId}");
        }
    }

    [Fact]
    public async Task Order_details_compose_the_order_its_payments_and_its_products_current_catalog_entries()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 6, price: 42m, ct);
        using var shopper = await _checkout.NewShopperAsync("details", ct);
        var orderId = await shopper.PlaceOrderAsync(ct, (product.Id, 2));
        await shopper.WaitUntilFinalAsync(orderId, ct);

        var details = await shopper.Gateway.GetFromJsonAsync<JsonElement>($"/api/bff/orders/{orderId}", ct);

        Assert.Equal("Confirmed", details.GetProperty("order").Status());
        Assert.Equal(orderId, details.GetProperty("order").GetProperty("id").GetGuid());
        var payment = Assert.Single(details.GetProperty("payments").EnumerateArray());
        Assert.Equal(("Charge", "Succeeded", 84m), (payment.GetProperty("kind").GetString(), payment.GetProperty("status").GetString(), payment.GetProperty("amount").GetDecimal()));
        var current = Assert.Single(details.GetProperty("products").EnumerateArray());
        Assert.Equal((product.Id, 42m, 4), (current.GetProperty("id").GetInt32(), current.GetProperty("price").GetDecimal(), current.GetProperty("availableStock").GetInt32()));
        Assert.Empty(details.GetProperty("unavailable").EnumerateArray());

        // Each service still decides what the caller may see: another buyer gets 404, not this order's payments.
        using var stranger = await _checkout.NewShopperAsync("stranger", ct);
        using var foreign = await stranger.Gateway.GetAsync($"/api/bff/orders/{orderId}", ct);
        await ProblemAssert.IsProblemAsync(foreign, HttpStatusCode.NotFound, ct);
        Assert.Empty(await stranger.PaymentsAsync(orderId, ct));
        using var anonymous = _checkout.Identity.CreateGatewayClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/bff/orders/{orderId}", ct)).StatusCode);
    }

    [Fact]
    public async Task With_products_stopped_order_history_still_shows_names_and_pictures_and_a_retried_order_still_gets_its_order()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var product = await _checkout.CreateProductAsync(stock: 2, price: 9m, ct);
        using var shopper = await _checkout.NewShopperAsync("history", ct);
        var key = Guid.NewGuid().ToString();
        var orderId = await shopper.PlaceOrderAsync(key, ct, (product.Id, 1));
        await shopper.WaitUntilFinalAsync(orderId, ct);

        // The read model is fed by ProductChanged events; the picture shows once the product's event has arrived.
        await CheckoutDriver.EventuallyAsync(
            () => shopper.ListOrdersAsync(ct),
            orders => orders.Single().GetProperty("lines")[0].GetProperty("pictureUrl").GetString() == $"/api/products/items/{product.Id}/pic",
            "the product's picture in the order list",
            ct);

        await shop.App.ResourceCommands.StopAsync("products", ct);
        try
        {
            var orders = await shopper.ListOrdersAsync(ct);
            var line = orders.Single().GetProperty("lines")[0];
            Assert.Equal(product.Name, line.GetProperty("productName").GetString());
            Assert.Equal($"/api/products/items/{product.Id}/pic", line.GetProperty("pictureUrl").GetString());
            Assert.Equal("Confirmed", (await shopper.GetOrderAsync(orderId, ct)).Status());

            // Prices cannot be read: a new order is refused, but a retry of the one placed gets that order back.
            using var retry = await shopper.PostOrderAsync(Shopper.Cart((product.Id, 1)), key, ct);
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            Assert.Equal(orderId, (await retry.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("id").GetGuid());
            using var fresh = await shopper.PostOrderAsync(Shopper.Cart((product.Id, 1)), Guid.NewGuid().ToString(), ct);
            await ProblemAssert.IsProblemAsync(fresh, HttpStatusCode.ServiceUnavailable, ct);
        }
        finally
        {
            await shop.App.EnsureRunningAsync("products");
        }
    }

    private async Task<List<(string Resource, string Name, string Kind)>> TraceSpansAsync(string traceId, CancellationToken cancellationToken)
    {
        var login = shop.App.GetDashboardLoginUrl();
        using var dashboard = new HttpClient { BaseAddress = new Uri(login.GetLeftPart(UriPartial.Authority)) };
        dashboard.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer", login.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("t=", StringComparison.Ordinal))[2..]);
        using var response = await dashboard.GetAsync($"/api/telemetry/traces/{traceId}", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        var trace = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return [.. trace.GetProperty("spans").EnumerateArray().Select(s => (
            s.GetProperty("resource").GetString()!.Split('/')[0],
            s.GetProperty("name").GetString()!,
            s.GetProperty("kind").GetString()!))];
    }
}
