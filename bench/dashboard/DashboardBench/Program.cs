using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Playwright;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

// Usage: DashboardBench <published dashboard dir> [seconds=10] [concurrency=4] [chromium=/usr/bin/chromium]
var dashboardDirectory = args.Length > 0 ? Path.GetFullPath(args[0]) : throw new ArgumentException("Pass the published dashboard directory.");
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var concurrency = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
var chromium = args.Length > 3 ? args[3] : "/usr/bin/chromium";
const int SpansPerBatch = 512;
const int SpansPerTrace = 8;

var token = Convert.ToHexString(Guid.NewGuid().ToByteArray());
var apiKey = Convert.ToHexString(Guid.NewGuid().ToByteArray());
await using var dashboard = await Dashboard.StartAsync(dashboardDirectory, token, apiKey);
Console.WriteLine($"Dashboard started (pid {dashboard.ProcessId}).");

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = chromium,
    Headless = true,
    Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
var page = await context.NewPageAsync();
await page.GotoAsync($"{dashboard.FrontendUrl}/login?t={token}&returnUrl=%2Ftraces");
await page.WaitForSelectorAsync("[data-circuit=live]");

// Pre-serialized batches (distinct trace ids) so the measurement is the dashboard's work, not the client's.
Console.WriteLine("Preparing batches…");
var batches = Enumerable.Range(0, 600).Select(i => Batch(i).ToByteArray()).ToArray();
var batchBytes = batches[0].Length;

using var channel = GrpcChannel.ForAddress(dashboard.OtlpGrpcUrl, new GrpcChannelOptions { MaxSendMessageSize = 64 * 1024 * 1024 });
var invoker = channel.CreateCallInvoker();
var export = new Method<byte[], byte[]>(MethodType.Unary, TraceService.Descriptor.FullName, "Export", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
var headers = new Metadata { { "x-otlp-api-key", apiKey } };

async Task<long> SendAsync(TimeSpan duration, int workers)
{
    long sent = 0;
    var next = -1;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
    {
        while (stopwatch.Elapsed < duration)
        {
            var batch = batches[(int)((uint)Interlocked.Increment(ref next) % batches.Length)];
            await invoker.AsyncUnaryCall(export, null, new CallOptions(headers), batch);
            Interlocked.Add(ref sent, SpansPerBatch);
        }
    }));
    return sent;
}

Console.WriteLine("Warming up…");
await SendAsync(TimeSpan.FromSeconds(3), concurrency);
var newestBefore = await page.GetAttributeAsync("tr.trace-row", "data-trace-id");

Console.WriteLine($"Ingesting for {seconds} s with {concurrency} concurrent exports of {SpansPerBatch} spans ({batchBytes / 1024} KB each)…");
var cpuBefore = dashboard.TotalProcessorTime();
var clock = Stopwatch.StartNew();
var spans = await SendAsync(TimeSpan.FromSeconds(seconds), concurrency);
clock.Stop();
var cpu = dashboard.TotalProcessorTime() - cpuBefore;
var spansPerSecond = spans / clock.Elapsed.TotalSeconds;
await Task.Delay(1000);
var countAfter = await page.InnerTextAsync("[data-testid=traces-count]");

// The open page re-rendered during the run if its newest trace changed without a reload.
var pageUpdated = newestBefore != await page.GetAttributeAsync("tr.trace-row", "data-trace-id");
Console.WriteLine($"Ingested {spans:N0} spans in {clock.Elapsed.TotalSeconds:0.00} s = {spansPerSecond:N0} spans/s (dashboard CPU {cpu.TotalSeconds:0.0} s); page shows \"{countAfter}\"");

using var api = new HttpClient { BaseAddress = new Uri(dashboard.FrontendUrl) };
api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
var stored = await api.GetFromJsonAsync<TraceList>("/api/telemetry/traces?limit=1");
Console.WriteLine($"Traces stored: {stored!.TotalStored:N0}");

// Trace list with 10,000 traces stored: full page load (server-rendered rows) and in-app navigation (circuit render).
var loads = new List<double>();
var navigations = new List<double>();
var apiCalls = new List<double>();
for (var i = 0; i < 10; i++)
{
    var load = Stopwatch.StartNew();
    await page.GotoAsync($"{dashboard.FrontendUrl}/traces", new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
    await page.Locator("tr.trace-row").Nth(99).WaitForAsync();
    loads.Add(load.Elapsed.TotalMilliseconds);
    await page.WaitForSelectorAsync("[data-circuit=live]");

    await page.ClickAsync("a.nav-item[href=structuredlogs]");
    await page.WaitForSelectorAsync("[data-testid=logs]");
    var navigate = Stopwatch.StartNew();
    await page.ClickAsync("a.nav-item[href=traces]");
    await page.Locator("tr.trace-row").Nth(99).WaitForAsync();
    navigations.Add(navigate.Elapsed.TotalMilliseconds);

    var call = Stopwatch.StartNew();
    await api.GetStringAsync("/api/telemetry/traces?limit=100");
    apiCalls.Add(call.Elapsed.TotalMilliseconds);
}

await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "traces-10000.png") });
var report = new StringBuilder()
    .AppendLine(CultureInfo.InvariantCulture, $"- Ingestion over OTLP/gRPC, traces page open and live: **{spansPerSecond:N0} spans/s** ({spans:N0} spans in {clock.Elapsed.TotalSeconds:0.0} s; batches of {SpansPerBatch} spans, {SpansPerTrace} per trace, {concurrency} concurrent exports; dashboard used {cpu.TotalSeconds / clock.Elapsed.TotalSeconds * 100:0}% of one core; page updated live: {(pageUpdated ? "yes" : "NO")})")
    .AppendLine(CultureInfo.InvariantCulture, $"- Traces stored after the run: {stored.TotalStored:N0}")
    .AppendLine(CultureInfo.InvariantCulture, $"- Trace list, full page load until 100 rows shown: median **{Median(loads):0} ms**, max {loads.Max():0} ms (10 runs)")
    .AppendLine(CultureInfo.InvariantCulture, $"- Trace list, in-app navigation until 100 rows shown: median **{Median(navigations):0} ms**, max {navigations.Max():0} ms (10 runs)")
    .AppendLine(CultureInfo.InvariantCulture, $"- `GET /api/telemetry/traces?limit=100` with 10,000 stored: median {Median(apiCalls):0.0} ms");
Console.WriteLine();
Console.WriteLine(report);
if (Environment.GetEnvironmentVariable("BENCH_REPORT") is { Length: > 0 } reportPath)
{
    await File.WriteAllTextAsync(reportPath, report.ToString());
}

return 0;

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static ExportTraceServiceRequest Batch(int index)
{
    var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "Microsoft.AspNetCore", Version = "10.0.0" } };
    var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
    for (var trace = 0; trace < SpansPerBatch / SpansPerTrace; trace++)
    {
        var traceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        var rootId = ByteString.CopyFrom(BitConverter.GetBytes(Random.Shared.NextInt64()));
        for (var i = 0; i < SpansPerTrace; i++)
        {
            var start = now + (ulong)(i * 1_000_000);
            scope.Spans.Add(new Span
            {
                TraceId = traceId,
                SpanId = i == 0 ? rootId : ByteString.CopyFrom(BitConverter.GetBytes(Random.Shared.NextInt64())),
                ParentSpanId = i == 0 ? ByteString.Empty : rootId,
                Name = i == 0 ? $"GET /api/catalog/items/{index % 50}" : $"SELECT catalog.items #{i}",
                Kind = i == 0 ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Client,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + 2_500_000,
                Attributes =
                {
                    Attribute("http.request.method", "GET"),
                    Attribute("url.path", $"/api/catalog/items/{index % 50}"),
                    Attribute("server.address", "localhost"),
                    Attribute("network.protocol.version", "1.1"),
                    Attribute("db.system", "postgresql"),
                    Attribute("db.name", "productsdb"),
                },
                Status = new OpenTelemetry.Proto.Trace.V1.Status { Code = i == 7 && trace % 10 == 0 ? OpenTelemetry.Proto.Trace.V1.Status.Types.StatusCode.Error : OpenTelemetry.Proto.Trace.V1.Status.Types.StatusCode.Unset },
            });
        }
    }

    var resource = new OtlpResource
    {
        Attributes =
        {
            Attribute("service.name", $"bench-{index % 4}"),
            Attribute("service.instance.id", $"bench-{index % 4}-instance"),
            Attribute("telemetry.sdk.name", "opentelemetry"),
        },
    };
    return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { scope } } } };
}

static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

internal sealed record TraceList(int MatchCount, int TotalStored);

/// <summary>The published dashboard as a child process on free loopback ports.</summary>
internal sealed partial class Dashboard(Process process, string frontendUrl, string otlpGrpcUrl) : IAsyncDisposable
{
    public string FrontendUrl { get; } = frontendUrl;

    public string OtlpGrpcUrl { get; } = otlpGrpcUrl;

    public int ProcessId => process.Id;

    public static async Task<Dashboard> StartAsync(string directory, string token, string apiKey)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        ports.ForEach(p => p.Start());
        var numbers = ports.Select(p => ((IPEndPoint)p.LocalEndpoint).Port).ToArray();
        ports.ForEach(p => p.Stop());

        var start = new ProcessStartInfo("dotnet", [Path.Combine(directory, "Shop.Dashboard.dll")])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{numbers[0]}";
        start.Environment["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{numbers[1]}";
        start.Environment["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://127.0.0.1:{numbers[2]}";
        start.Environment["Dashboard__Frontend__BrowserToken"] = token;
        start.Environment["Dashboard__Otlp__AuthMode"] = "ApiKey";
        start.Environment["Dashboard__Otlp__PrimaryApiKey"] = apiKey;
        var process = Process.Start(start)!;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Application started", StringComparison.Ordinal) == true)
            {
                started.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new Dashboard(process, $"http://127.0.0.1:{numbers[0]}", $"http://127.0.0.1:{numbers[1]}");
    }

    public TimeSpan TotalProcessorTime()
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
