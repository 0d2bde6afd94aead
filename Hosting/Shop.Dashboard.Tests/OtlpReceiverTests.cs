using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using Google.Protobuf;
using Shop.Dashboard.Tests.Infrastructure;
using OtlpResource = OpenTelemetry.Proto.Resource.V1.Resource;

namespace Shop.Dashboard.Tests;

[Collection(SecuredDashboardCollection.Name)]
public sealed class OtlpReceiverTests(SecuredDashboardFixture fixture)
{
    private DashboardProcess Dashboard => fixture.Dashboard;

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task Telemetry_from_the_OpenTelemetry_exporter_is_stored_and_returned_by_the_api(OtlpExportProtocol protocol)
    {
        using var timeout = Poll.Timeout();
        var service = $"orders-{protocol}".ToLowerInvariant();
        using var sender = new OtelSender(Dashboard, protocol, service);
        string traceId;
        using (var root = sender.Source.StartActivity("POST /api/orders", ActivityKind.Server))
        {
            traceId = root!.TraceId.ToHexString();
            root.SetTag("http.request.method", "POST");
            using (var child = sender.Source.StartActivity("SELECT orders", ActivityKind.Client))
            {
                child!.AddEvent(new ActivityEvent("rows-read"));
                child.SetStatus(ActivityStatusCode.Error, "deadlock");
            }

            sender.CreateLogger("Ordering").LogWarning("Order {OrderId} placed for {Amount}", 42, 9.5);
        }

        sender.Meter.CreateCounter<long>("orders.placed").Add(3, new KeyValuePair<string, object?>("payment", "card"));
        Assert.True(sender.Flush(), "The exporter reported a failed export.");

        using var api = Dashboard.CreateApiClient();
        var trace = await Poll.UntilAsync(async () => (await api.TracesAsync($"resource={service}", timeout.Token))!.Traces.FirstOrDefault(t => t.TraceId == traceId), "the trace", timeout.Token);
        Assert.Equal(2, trace.SpanCount);
        Assert.Equal(1, trace.ErrorCount);
        Assert.Equal($"{service}: POST /api/orders", trace.Name);

        var detail = await api.TraceAsync(traceId, timeout.Token);
        var client = Assert.Single(detail!.Spans, s => s.Name == "SELECT orders");
        Assert.Equal("Client", client.Kind);
        Assert.Equal("Error", client.Status);
        Assert.Equal("deadlock", client.StatusMessage);
        Assert.Equal("rows-read", Assert.Single(client.Events).Name);
        Assert.Equal(detail.Spans.Single(s => s.Name == "POST /api/orders").SpanId, client.ParentSpanId);
        Assert.Equal("POST", detail.Spans.Single(s => s.ParentSpanId is null).Attributes["http.request.method"]);

        var logs = await Poll.UntilAsync(async () => (await api.LogsAsync($"resource={service}&level=Warning", timeout.Token)) is { Logs.Count: > 0 } l ? l : null, "the log entry", timeout.Token);
        var log = Assert.Single(logs.Logs);
        Assert.Equal("Order 42 placed for 9.5", log.Message);
        Assert.Equal("Warning", log.Level);
        Assert.Equal(traceId, log.TraceId);
        Assert.Equal("42", log.Attributes["OrderId"]);

        var metrics = await Poll.UntilAsync(async () => (await api.MetricsAsync($"resource={service}&name=orders.placed", timeout.Token)) is { Length: > 0 } m ? m : null, "the metric", timeout.Token);
        var series = Assert.Single(Assert.Single(metrics).Series);
        Assert.Equal("card", series.Dimensions["payment"]);
        Assert.Equal(3, series.Points[^1].Value);

        var resources = await api.ResourcesAsync(timeout.Token);
        var resource = Assert.Single(resources!, r => r.Name == service);
        Assert.Equal($"{service}-instance", resource.InstanceId);
        Assert.Equal(2, resource.SpanCount);
    }

    [Fact]
    public async Task A_wrong_or_missing_otlp_api_key_is_refused()
    {
        using var timeout = Poll.Timeout();
        using var channel = GrpcChannel.ForAddress(Dashboard.OtlpGrpcUrl);
        var client = new TraceService.TraceServiceClient(channel);
        var request = Request("refused-service");

        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(request, new Metadata { { "x-otlp-api-key", "wrong" } }, cancellationToken: timeout.Token).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(request, cancellationToken: timeout.Token).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);

        using var http = new HttpClient { BaseAddress = Dashboard.OtlpHttpUrl };
        using var wrongHttp = await http.SendAsync(Post(request.ToByteArray(), "wrong"), timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongHttp.StatusCode);
        using var missingHttp = await http.SendAsync(Post(request.ToByteArray(), apiKey: null), timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, missingHttp.StatusCode);

        using var api = Dashboard.CreateApiClient();
        Assert.Equal(0, (await api.TracesAsync("resource=refused-service", timeout.Token))!.MatchCount);

        // The right key is accepted on the same connection.
        await client.ExportAsync(request, new Metadata { { "x-otlp-api-key", Dashboard.OtlpApiKey! } }, cancellationToken: timeout.Token);
        Assert.Equal(1, (await api.TracesAsync("resource=refused-service", timeout.Token))!.MatchCount);
    }

    [Fact]
    public async Task Malformed_payloads_are_rejected_and_the_receiver_keeps_working()
    {
        using var timeout = Poll.Timeout();
        byte[] garbage = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01];
        using var http = new HttpClient { BaseAddress = Dashboard.OtlpHttpUrl };
        using (var response = await http.SendAsync(Post(garbage, Dashboard.OtlpApiKey), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using (var wrongType = await http.SendAsync(Post(garbage, Dashboard.OtlpApiKey, "text/plain"), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        }

        using var channel = GrpcChannel.ForAddress(Dashboard.OtlpGrpcUrl);
        var raw = new Method<byte[], byte[]>(
            MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var headers = new Metadata { { "x-otlp-api-key", Dashboard.OtlpApiKey! } };
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(headers, cancellationToken: timeout.Token), garbage).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);

        // Both receivers still accept well-formed batches afterwards.
        var client = new TraceService.TraceServiceClient(channel);
        await client.ExportAsync(Request("after-garbage-grpc"), headers, cancellationToken: timeout.Token);
        using (var ok = await http.SendAsync(Post(Request("after-garbage-http").ToByteArray(), Dashboard.OtlpApiKey), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("application/x-protobuf", ok.Content.Headers.ContentType?.MediaType);
        }

        using var api = Dashboard.CreateApiClient();
        Assert.Equal(1, (await api.TracesAsync("resource=after-garbage-grpc", timeout.Token))!.MatchCount);
        Assert.Equal(1, (await api.TracesAsync("resource=after-garbage-http", timeout.Token))!.MatchCount);
    }

    [Fact]
    public async Task A_gzip_body_cut_short_is_rejected_as_bad_data_and_nothing_is_stored()
    {
        using var timeout = Poll.Timeout();
        // The first batch is flushed to a byte boundary, so the body cut there decompresses to exactly that batch: a
        // whole, valid message that only the missing end of the gzip stream gives away.
        using var compressed = new MemoryStream();
        int cut;
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Request("gzip-cut-first").ToByteArray());
            gzip.Flush();
            cut = (int)compressed.Length;
            gzip.Write(Request("gzip-cut-second").ToByteArray());
        }

        using var http = new HttpClient { BaseAddress = Dashboard.OtlpHttpUrl };
        using (var truncated = await http.SendAsync(Gzip(Post(compressed.GetBuffer()[..cut], Dashboard.OtlpApiKey)), timeout.Token))
        {
            // OTLP/HTTP: data that cannot be decoded is 400, which exporters do not retry.
            Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        }

        using var api = Dashboard.CreateApiClient();
        Assert.Equal(0, (await api.TracesAsync("resource=gzip-cut-first", timeout.Token))!.MatchCount);

        // The whole body is accepted, both batches with it.
        using (var whole = await http.SendAsync(Gzip(Post(compressed.ToArray(), Dashboard.OtlpApiKey)), timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        }

        Assert.Equal(1, (await api.TracesAsync("resource=gzip-cut-first", timeout.Token))!.MatchCount);
        Assert.Equal(1, (await api.TracesAsync("resource=gzip-cut-second", timeout.Token))!.MatchCount);
    }

    [Fact]
    public async Task Otlp_paths_are_only_served_on_the_otlp_endpoints()
    {
        using var timeout = Poll.Timeout();
        using var frontend = Dashboard.CreateApiClient();
        using var response = await frontend.SendAsync(Post(Request("wrong-port").ToByteArray(), Dashboard.OtlpApiKey, path: "/v1/traces"), timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        using var otlp = new HttpClient { BaseAddress = Dashboard.OtlpHttpUrl };
        using var ui = await otlp.GetAsync("/api/telemetry/traces", timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, ui.StatusCode);
    }

    [Theory]
    [InlineData("/Opentelemetry.proto.collector.trace.v1.TraceService/Export")]
    [InlineData("/OPENTELEMETRY.PROTO.COLLECTOR.TRACE.V1.TRACESERVICE/EXPORT")]
    [InlineData("/V1/traces")]
    public async Task Otlp_paths_in_any_case_are_not_served_on_the_frontend(string path)
    {
        using var timeout = Poll.Timeout();
        using var frontend = Dashboard.CreateApiClient(authenticated: false);
        var payload = Request("frontend-case").ToByteArray();
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        using var response = await frontend.SendAsync(Post(frame, apiKey: null, "application/grpc", path), timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_grpc_service_in_another_case_still_needs_the_api_key()
    {
        using var timeout = Poll.Timeout();
        using var channel = GrpcChannel.ForAddress(Dashboard.OtlpGrpcUrl);
        var method = new Method<byte[], byte[]>(
            MethodType.Unary, "Opentelemetry.Proto.Collector.Trace.V1.TraceService", "Export",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var payload = Request("grpc-case").ToByteArray();
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(cancellationToken: timeout.Token), payload).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);

        using var api = Dashboard.CreateApiClient();
        Assert.Equal(0, (await api.TracesAsync("resource=grpc-case", timeout.Token))!.MatchCount);
    }

    internal static ExportTraceServiceRequest Request(string service, int spans = 1)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "tests" } };
        var traceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        for (var i = 0; i < spans; i++)
        {
            scope.Spans.Add(new Span
            {
                TraceId = traceId,
                SpanId = ByteString.CopyFrom(BitConverter.GetBytes((long)i + 1)),
                Name = $"span {i}",
                Kind = Span.Types.SpanKind.Server,
                StartTimeUnixNano = now,
                EndTimeUnixNano = now + 1_000_000,
            });
        }

        var resourceSpans = new ResourceSpans
        {
            Resource = new OtlpResource { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = service } } } },
        };
        resourceSpans.ScopeSpans.Add(scope);
        return new ExportTraceServiceRequest { ResourceSpans = { resourceSpans } };
    }

    private static HttpRequestMessage Gzip(HttpRequestMessage request)
    {
        request.Content!.Headers.ContentEncoding.Add("gzip");
        return request;
    }

    private static HttpRequestMessage Post(byte[] body, string? apiKey, string contentType = "application/x-protobuf", string path = "/v1/traces")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (apiKey is not null)
        {
            request.Headers.Add("x-otlp-api-key", apiKey);
        }

        return request;
    }
}
