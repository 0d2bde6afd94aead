using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Extensions;
using Gateway.Middleware;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Apis;

/// <summary>
/// One order as the storefront's order page shows it, composed here from three services (API composition): the order
/// with its status history (ordering), its payments and refunds (payment) and the current catalog entry of each of its
/// products (products: today's price and stock, for "buy again"). Ordering and payment are called with the caller's
/// own token, so each service still decides what this user may see; products' catalog is public.
/// <para>
/// The gateway is the place for it: it already authenticates the caller, sits next to every service, and answers
/// every client (the storefront, and any other) with one round trip instead of three. The order is essential; the
/// other parts are not: when payment or products fail, the order is returned with that part null and named in
/// <c>unavailable</c>, rather than failing the page. A part whose service refuses the caller (401 or 403), or that the
/// caller's token was not issued for, is null and named in <c>notPermitted</c> instead: it is not down, and asking again
/// will not bring it.
/// </para>
/// <para>
/// Each call has a budget of its own (<see cref="OrderBudget"/>, <see cref="PartBudget"/>) within which the service
/// defaults' retries run: a hung payment service costs the page its payments after a few seconds, not the whole page
/// after the standard handler's 30 s, by which time the caller has given up.
/// </para>
/// </summary>
public static class OrderDetailsApi
{
    /// <summary>
    /// The audiences of the services the caller's token is forwarded to (their clusters' in the gateway's routes). The
    /// order is essential, so the endpoint needs a token for ordering, as an ordering route does; one without payment's
    /// audience still gets the order, its payments not permitted, and is not sent to payment.
    /// </summary>
    private const string OrderingAudience = "ordering";

    private const string PaymentAudience = "payment";

    /// <summary>
    /// How long the order itself may take, the service defaults' retries included. Past it the composition answers 503
    /// rather than waiting for the standard handler's 30 s: the caller (the storefront) waits for this endpoint as a
    /// whole and must get an answer before its own timeout, not retry a request that is still running.
    /// </summary>
    public static readonly TimeSpan OrderBudget = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long each optional part (payments, products) may take, counted once the order is read; the parts are read
    /// side by side. A hung payment service then costs the page its payment details after this long, not the order.
    /// </summary>
    public static readonly TimeSpan PartBudget = TimeSpan.FromSeconds(3);

    /// <summary>The longest the composition takes before it answers: the order's budget, then the parts'.</summary>
    public static TimeSpan Budget => OrderBudget + PartBudget;

    private const string OrderingClient = "bff-ordering";
    private const string PaymentClient = "bff-payment";
    private const string ProductsClient = "bff-products";

    /// <summary>The HttpClients of the composition, on service-discovery names with the service defaults' resilience handler.</summary>
    public static IHostApplicationBuilder AddOrderDetailsApi(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddHttpClient(OrderingClient, http => http.BaseAddress = new Uri("http://ordering"));
        builder.Services.AddHttpClient(PaymentClient, http => http.BaseAddress = new Uri("http://payment"));
        builder.Services.AddHttpClient(ProductsClient, http => http.BaseAddress = new Uri("http://products"));
        return builder;
    }

    public static IEndpointRouteBuilder MapOrderDetailsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapGroup("api/bff").WithTags("Storefront (composed)")
            .RequireAuthorization(RouteAudiences.SignedInUserFor(OrderingAudience))
            .MapGet("/orders/{id:guid}", GetOrderDetails)
            .WithName("GetOrderDetails")
            .WithSummary("An order with its payments and its products' current catalog entries, in one response");

        return app;
    }

    public static async Task<Results<Ok<OrderDetails>, ProblemHttpResult>> GetOrderDetails(
        Guid id,
        HttpContext context,
        IHttpClientFactory clients,
        CancellationToken cancellationToken)
    {
        var authorization = context.Request.Headers.Authorization.ToString();

        var order = await ReadOrderAsync(clients.CreateClient(OrderingClient), $"/api/ordering/orders/{id}", authorization, cancellationToken);
        if (order.Problem is { } problem)
        {
            return problem;
        }

        var productIds = order.Content.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("productId").GetInt32()).Distinct().ToList();
        // A token not issued for payment is not handed to it: payment would refuse it, and it is none of its business.
        var payments = context.User.HasAudience(PaymentAudience)
            ? ReadPartAsync(clients.CreateClient(PaymentClient), $"/api/payment/payments?orderId={id}", authorization, cancellationToken)
            : Task.FromResult(Part.Refused);
        var products = productIds.Count == 0
            ? Task.FromResult(new Part(JsonDocument.Parse("[]").RootElement))
            : ReadPartAsync(
                clients.CreateClient(ProductsClient),
                "/api/products/items/by?" + string.Join('&', productIds.Select(p => "ids=" + p.ToString(CultureInfo.InvariantCulture))),
                authorization: null,
                cancellationToken);
        await Task.WhenAll(payments, products);

        List<string> unavailable = [];
        List<string> notPermitted = [];
        payments.Result.NameIfMissing("payments", unavailable, notPermitted);
        products.Result.NameIfMissing("products", unavailable, notPermitted);

        return TypedResults.Ok(new OrderDetails(order.Content, payments.Result.Content, products.Result.Content, unavailable, notPermitted));
    }

    /// <summary>
    /// The order, or the problem to answer instead: ordering's own refusal (404 for an order that is not this user's)
    /// as it is, and 503 when ordering failed or did not answer within <see cref="OrderBudget"/>.
    /// </summary>
    private static async Task<(JsonElement Content, ProblemHttpResult? Problem)> ReadOrderAsync(
        HttpClient http, string path, string authorization, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(OrderBudget);
        try
        {
            using var response = await SendAsync(http, path, authorization, budget.Token);
            if (response is { IsSuccessStatusCode: true })
            {
                return (await ReadAsync(response, budget.Token), null);
            }

            if (response?.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                // The service's own answer goes back as it is.
                var problem = await ReadAsync(response, budget.Token);
                return (default, TypedResults.Problem(
                    statusCode: (int)response.StatusCode,
                    title: problem.TryGetProperty("title", out var title) ? title.GetString() : response.ReasonPhrase,
                    detail: problem.TryGetProperty("detail", out var detail) ? detail.GetString() : null));
            }
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Out of time: answered below as a service that did not answer.
        }

        return (default, TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The order could not be read.",
            detail: "The ordering service did not answer. Try again shortly."));
    }

    /// <summary>
    /// A part of the page, or null when its service failed, did not answer within <see cref="PartBudget"/>, or refused
    /// the caller, so the rest can still be shown.
    /// </summary>
    private static async Task<Part> ReadPartAsync(HttpClient http, string path, string? authorization, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(PartBudget);
        try
        {
            using var response = await SendAsync(http, path, authorization, budget.Token);
            return response switch
            {
                { IsSuccessStatusCode: true } => new Part(await ReadAsync(response, budget.Token)),
                { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } => Part.Refused,
                _ => Part.Failed,
            };
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Part.Failed;
        }
    }

    /// <summary>A part of the composed page: its content, or null and whether the caller was refused rather than the service failing.</summary>
    private readonly record struct Part(JsonElement? Content, bool NotPermitted = false)
    {
        public static Part Failed => new(null);

        public static Part Refused => new(null, NotPermitted: true);

        /// <summary>Adds <paramref name="name"/> to the list that says why the part is missing, if it is.</summary>
        public void NameIfMissing(string name, List<string> unavailable, List<string> notPermitted)
        {
            if (Content is null)
            {
                (NotPermitted ? notPermitted : unavailable).Add(name);
            }
        }
    }

    private static async Task<HttpResponseMessage?> SendAsync(HttpClient http, string path, string? authorization, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (!string.IsNullOrEmpty(authorization))
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException)
        {
            return null;
        }
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        return document.RootElement.Clone();
    }
}

/// <summary>
/// The composed order page. <see cref="Order"/> is ordering's order (lines, status history); <see cref="Payments"/>
/// payment's charges and refunds of it; <see cref="Products"/> the current catalog entries of its products (a product
/// no longer sold is missing). A part that is null is named in exactly one list: <see cref="Unavailable"/> when its
/// service failed or did not answer (it may come back), <see cref="NotPermitted"/> when the caller may not see it (the
/// service refused the caller's token, or the token is not for that service). A client that knows only
/// <c>unavailable</c>, which came first, still finds such a part null, as the storefront's order page does.
/// </summary>
public sealed record OrderDetails(
    JsonElement Order, JsonElement? Payments, JsonElement? Products, IReadOnlyList<string> Unavailable, IReadOnlyList<string> NotPermitted);
