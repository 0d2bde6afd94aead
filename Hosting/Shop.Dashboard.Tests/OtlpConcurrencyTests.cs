using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using Shop.Dashboard.Tests.Infrastructure;

namespace Shop.Dashboard.Tests;

public sealed class OtlpConcurrencyTests
{
    [Fact]
    public async Task Otlp_http_exports_beyond_the_concurrency_limit_get_429_with_retry_after()
    {
        using var timeout = Poll.Timeout();
        await using var dashboard = await StartWithOneSlotAsync(timeout.Token);
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };
        await using var slow = await SlowExport.StartAsync(dashboard, timeout.Token);

        var busy = await Poll.UntilAsync(
            async () =>
            {
                var response = await http.SendAsync(Post(new ByteArrayContent(OtlpReceiverTests.Request("eager-exporter").ToByteArray())), timeout.Token);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    return response;
                }

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                response.Dispose();
                // The slow export must still be open and unanswered, holding the slot, for a 429 to mean anything.
                slow.AssertUnanswered();
                return null;
            },
            "a 429 while the slow export holds the slot",
            timeout.Token);
        using (busy)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        }

        Assert.StartsWith("HTTP/1.1 200", await slow.FinishAsync(timeout.Token), StringComparison.Ordinal);

        // The slot is free again (the slow export's answer can arrive just before the slot is released).
        using var after = await Poll.UntilAsync(
            async () =>
            {
                var response = await http.SendAsync(Post(new ByteArrayContent(OtlpReceiverTests.Request("eager-exporter").ToByteArray())), timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return response;
                }

                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                response.Dispose();
                return null;
            },
            "the slot to be free again",
            timeout.Token);
    }

    [Fact]
    public async Task Otlp_grpc_exports_share_the_concurrency_limit_and_get_unavailable_beyond_it()
    {
        using var timeout = Poll.Timeout();
        await using var dashboard = await StartWithOneSlotAsync(timeout.Token);
        using var channel = GrpcChannel.ForAddress(dashboard.OtlpGrpcUrl);
        var client = new TraceService.TraceServiceClient(channel);
        await using var slow = await SlowExport.StartAsync(dashboard, timeout.Token);

        // Unavailable is what the OTLP spec has a receiver answer when it cannot keep up; exporters retry it.
        var busy = await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    await client.ExportAsync(OtlpReceiverTests.Request("eager-grpc-exporter"), cancellationToken: timeout.Token);
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
                {
                    return ex;
                }

                slow.AssertUnanswered();
                return null;
            },
            "Unavailable while the slow export holds the slot",
            timeout.Token);
        Assert.Contains("Too many OTLP exports", busy.Status.Detail, StringComparison.Ordinal);

        Assert.StartsWith("HTTP/1.1 200", await slow.FinishAsync(timeout.Token), StringComparison.Ordinal);

        // The slot is free again (the slow export's answer can arrive just before the slot is released).
        await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    return await client.ExportAsync(OtlpReceiverTests.Request("eager-grpc-exporter"), cancellationToken: timeout.Token);
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
                {
                    return null;
                }
            },
            "the slot to be free again",
            timeout.Token);
    }

    private static Task<DashboardProcess> StartWithOneSlotAsync(CancellationToken cancellationToken) =>
        DashboardProcess.StartAsync(
            new Dictionary<string, string> { ["Dashboard__Otlp__MaxConcurrentExports"] = "1" }, secured: false, cancellationToken: cancellationToken);

    private static HttpRequestMessage Post(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content };
    }

    /// <summary>
    /// An OTLP/HTTP export whose body arrives slowly, holding the only slot until it is finished (raw HTTP/1.1, so
    /// nothing between the test and the socket holds the partial body back). Slowly, not stalled: Kestrel aborts a body
    /// slower than 240 bytes/s after 5 s, which freed the slot before a loaded CI machine saw the refusal. The padding
    /// is an unknown field, which the parser skips.
    /// </summary>
    private sealed class SlowExport : IAsyncDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly byte[] _body;
        private readonly CancellationTokenSource _stopTrickle;
        private readonly Task _trickle;
        private int _sent = 1024;

        private SlowExport(TcpClient client, NetworkStream stream, byte[] body, CancellationToken cancellationToken)
        {
            _client = client;
            _stream = stream;
            _body = body;
            _stopTrickle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _trickle = Task.Run(async () =>
            {
                // About 20 kB/s: far above Kestrel's minimum, far below what the 4 MiB body needs to finish in the test.
                while (!_stopTrickle.IsCancellationRequested && _sent < _body.Length - 1024)
                {
                    await _stream.WriteAsync(_body.AsMemory(_sent, 1024), cancellationToken);
                    _sent += 1024;
                    await Task.Delay(50, _stopTrickle.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });
        }

        public static async Task<SlowExport> StartAsync(DashboardProcess dashboard, CancellationToken cancellationToken)
        {
            var body = WithUnknownField(OtlpReceiverTests.Request("slow-exporter").ToByteArray(), 4 * 1024 * 1024);
            var head = Encoding.ASCII.GetBytes(
                $"POST /v1/traces HTTP/1.1\r\nHost: {dashboard.OtlpHttpUrl.Authority}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            // When the test project runs whole, some other export now and then holds the slot as the slow one starts,
            // and the slow one is refused: it starts again until it is the one holding the slot (it has no answer yet).
            var (client, stream) = await Poll.UntilAsync(
                async () =>
                {
                    var client = new TcpClient();
                    await client.ConnectAsync(dashboard.OtlpHttpUrl.Host, dashboard.OtlpHttpUrl.Port, cancellationToken);
                    var connection = client.GetStream();
                    await connection.WriteAsync(head, cancellationToken);
                    await connection.WriteAsync(body.AsMemory(0, 1024), cancellationToken);
                    await Task.Delay(200, cancellationToken);
                    if (client.Available == 0)
                    {
                        return Tuple.Create(client, connection);
                    }

                    client.Dispose();
                    return null;
                },
                "the slow export to hold the slot",
                cancellationToken);
            return new SlowExport(client, stream, body, cancellationToken);
        }

        /// <summary>A refusal means something only while the slow export is still open and unanswered.</summary>
        public void AssertUnanswered() => Assert.Equal(0, _client.Available);

        /// <summary>Sends the rest of the body and returns the response's status line.</summary>
        public async Task<string?> FinishAsync(CancellationToken cancellationToken)
        {
            await _stopTrickle.CancelAsync();
            await _trickle;
            await _stream.WriteAsync(_body.AsMemory(_sent), cancellationToken);
            using var reader = new StreamReader(_stream, leaveOpen: true);
            return await reader.ReadLineAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _stopTrickle.CancelAsync();
            await _trickle;
            _stopTrickle.Dispose();
            _client.Dispose();
        }

        /// <summary>The message with a length-delimited field (number 15) of <paramref name="size"/> zero bytes appended.</summary>
        private static byte[] WithUnknownField(byte[] message, int size)
        {
            using var padded = new MemoryStream();
            padded.Write(message);
            var output = new CodedOutputStream(padded);
            output.WriteTag(15, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(new byte[size]));
            output.Flush();
            return padded.ToArray();
        }
    }
}
