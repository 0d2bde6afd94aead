using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

// bench/checkout's load generator.
//   setup      --gateway URL --admin-token T [--products 16]          creates products with plenty of stock; prints their ids
//   throughput --gateway URL --token T --products 1,2,… [--concurrency 64] [--duration 30] [--warmup 10]
//              closed loop: each of C workers places an order and waits for its Confirmed before the next one;
//              reports orders confirmed per second over the measured window
//   latency    --gateway URL --token T --products 1,2,… [--rate 50] [--duration 30] [--warmup 10]
//              open loop: orders at a fixed rate; reports order-to-confirmed latency (POST sent → Confirmed received
//              on the status stream) and POST latency, p50/p90/p99/max
// Each prints one '|'-separated line; its last field is the number of orders that reached a final status in the run.
var arguments = Arguments.Parse(args);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(10), UseProxy = false })
{
    BaseAddress = new Uri(arguments.Required("gateway")),
    Timeout = TimeSpan.FromSeconds(60),
};

switch (arguments.Command)
{
    case "setup":
        await SetupAsync(http, arguments);
        return 0;
    case "throughput":
    case "latency":
        var bench = new CheckoutBench(http, arguments);
        return arguments.Command == "throughput" ? await bench.ThroughputAsync() : await bench.LatencyAsync();
    default:
        Console.Error.WriteLine("usage: CheckoutBench setup|throughput|latency --gateway URL …");
        return 2;
}

static async Task SetupAsync(HttpClient http, Arguments arguments)
{
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", arguments.Required("admin-token"));
    var brand = (await http.GetFromJsonAsync<JsonElement>("/api/products/brands"))[0].GetProperty("id").GetInt32();
    var category = (await http.GetFromJsonAsync<JsonElement>("/api/products/categories"))[0].GetProperty("id").GetInt32();
    var ids = new List<int>();
    for (var i = 0; i < arguments.Int("products", 16); i++)
    {
        using var response = await http.PostAsJsonAsync("/api/products/items", new
        {
            name = $"Bench item {i} {Guid.NewGuid():N}"[..32],
            description = "Made by bench/checkout.",
            price = 10m + i,
            brandId = brand,
            categoryId = category,
            availableStock = 1_000_000,
        });
        response.EnsureSuccessStatusCode();
        ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32());
    }

    Console.WriteLine(string.Join(',', ids));
}

internal sealed class CheckoutBench
{
    private readonly HttpClient _http;
    private readonly Arguments _arguments;
    private readonly int[] _products;
    private readonly ConcurrentDictionary<Guid, long> _finished = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<string>> _waiting = new();
    private long _cancelled;

    public CheckoutBench(HttpClient http, Arguments arguments)
    {
        _http = http;
        _arguments = arguments;
        _products = [.. arguments.Required("products").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", arguments.Required("token"));
    }

    public async Task<int> ThroughputAsync()
    {
        var concurrency = _arguments.Int("concurrency", 64);
        var warmup = TimeSpan.FromSeconds(_arguments.Int("warmup", 10));
        var duration = TimeSpan.FromSeconds(_arguments.Int("duration", 30));
        using var stop = new CancellationTokenSource();
        var stream = FollowStatusStreamAsync(stop.Token);
        var confirmed = new List<long>();
        var errors = 0L;
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)((warmup + duration).TotalSeconds * Stopwatch.Frequency);

        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var random = new Random(worker);
            while (Stopwatch.GetTimestamp() < end)
            {
                var (id, _) = await PlaceAsync(random);
                if (id is null)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }

                var outcome = await WaitAsync(id.Value, TimeSpan.FromSeconds(60));
                if (outcome == "Confirmed")
                {
                    lock (confirmed)
                    {
                        confirmed.Add(Stopwatch.GetTimestamp());
                    }
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        await stop.CancelAsync();
        await stream;

        var windowStart = started + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var inWindow = confirmed.Count(t => t >= windowStart && t < end);
        var rate = inWindow / duration.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput|{concurrency}|{rate:0.0}|{inWindow}|{errors}|{Interlocked.Read(ref _cancelled)}|{_finished.Count}"));
        return 0;
    }

    public async Task<int> LatencyAsync()
    {
        var rate = _arguments.Int("rate", 50);
        var warmup = TimeSpan.FromSeconds(_arguments.Int("warmup", 10));
        var duration = TimeSpan.FromSeconds(_arguments.Int("duration", 30));
        using var stop = new CancellationTokenSource();
        var stream = FollowStatusStreamAsync(stop.Token);
        var random = new Random(1);
        var sent = new ConcurrentBag<(Guid Id, long SentAt, double PostMs, bool Measured)>();
        var errors = 0L;
        var total = (int)((warmup + duration).TotalSeconds * rate);
        var warmupCount = (int)(warmup.TotalSeconds * rate);
        var started = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            // Open loop: each order goes out at its own time, whether or not earlier ones have been answered.
            var due = started + (long)(i * Stopwatch.Frequency / (double)rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var measured = i >= warmupCount;
            inFlight.Add(Task.Run(async () =>
            {
                var sentAt = Stopwatch.GetTimestamp();
                var (id, postMs) = await PlaceAsync(random);
                if (id is null)
                {
                    Interlocked.Increment(ref errors);
                    return;
                }

                sent.Add((id.Value, sentAt, postMs, measured));
                await WaitAsync(id.Value, TimeSpan.FromSeconds(60));
            }));
        }

        var offered = total / Stopwatch.GetElapsedTime(started).TotalSeconds;
        await Task.WhenAll(inFlight);
        await stop.CancelAsync();
        await stream;

        var measuredOrders = sent.Where(s => s.Measured).ToList();
        var latencies = measuredOrders
            .Where(s => _finished.ContainsKey(s.Id))
            .Select(s => Stopwatch.GetElapsedTime(s.SentAt, _finished[s.Id]).TotalMilliseconds)
            .Order()
            .ToList();
        var posts = measuredOrders.Select(s => s.PostMs).Order().ToList();
        var missing = measuredOrders.Count - latencies.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency|{rate}|{offered:0.0}|{latencies.Count}|{P(latencies, 50):0}|{P(latencies, 90):0}|{P(latencies, 99):0}|{latencies.LastOrDefault():0}|{P(posts, 50):0}|{P(posts, 99):0}|{errors + missing}|{Interlocked.Read(ref _cancelled)}|{_finished.Count}"));
        return 0;
    }

    private static double P(List<double> sorted, double percentile) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1)];

    private async Task<(Guid? Id, double PostMs)> PlaceAsync(Random random)
    {
        var product = _products[random.Next(_products.Length)];
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/ordering/orders")
        {
            Content = JsonContent.Create(new { items = new[] { new { productId = product, quantity = 1 } } }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.SendAsync(request);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.Created)
            {
                Console.Error.WriteLine($"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return (null, elapsed);
            }

            var order = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (order.GetProperty("id").GetGuid(), elapsed);
        }
        catch (HttpRequestException exception)
        {
            Console.Error.WriteLine($"POST failed: {exception.Message}");
            return (null, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>The order's final status, once the stream has delivered it (or "timeout").</summary>
    private async Task<string> WaitAsync(Guid id, TimeSpan timeout)
    {
        var waiter = _waiting.GetOrAdd(id, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            return await waiter.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return "timeout";
        }
    }

    /// <summary>
    /// The user's status stream: records when each order reached its final status. Reconnects with Last-Event-ID when
    /// the server ends it (it does when a client falls too far behind), as an EventSource would.
    /// </summary>
    private async Task FollowStatusStreamAsync(CancellationToken cancellationToken)
    {
        string? lastEventId = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ordering/orders/events");
                if (lastEventId is not null)
                {
                    request.Headers.Add("Last-Event-ID", lastEventId);
                }

                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.StartsWith("id: ", StringComparison.Ordinal))
                    {
                        lastEventId = line[4..];
                    }
                    else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        Record(JsonDocument.Parse(line.AsMemory(6)).RootElement);
                    }
                }

                Console.Error.WriteLine($"status stream ended after event {lastEventId}; reconnecting");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException)
            {
                Console.Error.WriteLine($"status stream failed ({exception.Message}); reconnecting");
                await Task.Delay(200, CancellationToken.None);
            }
        }
    }

    private void Record(JsonElement change)
    {
        var status = change.GetProperty("status").GetString()!;
        if (status is not ("Confirmed" or "Cancelled"))
        {
            return;
        }

        var id = change.GetProperty("orderId").GetGuid();
        if (_finished.TryAdd(id, Stopwatch.GetTimestamp()) && status == "Cancelled")
        {
            Interlocked.Increment(ref _cancelled);
        }

        _waiting.GetOrAdd(id, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(status);
    }
}

internal sealed record Arguments(string Command, Dictionary<string, string> Values)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        return new Arguments(args.Length > 0 ? args[0] : "", values);
    }

    public string Required(string name) =>
        Values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback) =>
        Values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
