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
                await slow.RestartIfRefusedAsync();
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

                await slow.RestartIfRefusedAsync();
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
        private readonly DashboardProcess _dashboard;
        private readonly byte[] _body;
        private readonly byte[] _head;
        private readonly CancellationToken _cancellationToken;
        private TcpClient _client = default!;
        private NetworkStream _stream = default!;
        private CancellationTokenSource _stopTrickle = default!;
        private Task _trickle = Task.CompletedTask;
        private int _sent;

        private SlowExport(DashboardProcess dashboard, CancellationToken cancellationToken)
        {
            _dashboard = dashboard;
            _body = WithUnknownField(OtlpReceiverTests.Request("slow-exporter").ToByteArray(), 4 * 1024 * 1024);
            _head = Encoding.ASCII.GetBytes(
                $"POST /v1/traces HTTP/1.1\r\nHost: {dashboard.OtlpHttpUrl.Authority}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {_body.Length}\r\nConnection: close\r\n\r\n");
            _cancellationToken = cancellationToken;
        }

        public static async Task<SlowExport> StartAsync(DashboardProcess dashboard, CancellationToken cancellationToken)
        {
            var export = new SlowExport(dashboard, cancellationToken);
            await export.OpenAsync();
            return export;
        }

        /// <summary>
        /// When the test project runs whole, some other export now and then holds the slot as the slow one starts, and
        /// the slow one is refused, its answer sometimes arriving only after it seemed to hold the slot: a refusal of
        /// another export means something only while the slow one is unanswered, so a refused one starts again.
        /// </summary>
        public async Task RestartIfRefusedAsync()
        {
            if (_client.Available > 0)
            {
                await CloseAsync();
                await OpenAsync();
            }
        }

        /// <summary>Sends the rest of the body and returns the response's status line.</summary>
        public async Task<string?> FinishAsync(CancellationToken cancellationToken)
        {
            await _stopTrickle.CancelAsync();
            await _trickle;
            await _stream.WriteAsync(_body.AsMemory(_sent), cancellationToken);
            using var reader = new StreamReader(_stream, leaveOpen: true);
            return await reader.ReadLineAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => new(CloseAsync());

        private async Task OpenAsync()
        {
            // It starts again until it is the one holding the slot (it has no answer yet).
            (_client, _stream) = await Poll.UntilAsync(
                async () =>
                {
                    var client = new TcpClient();
                    await client.ConnectAsync(_dashboard.OtlpHttpUrl.Host, _dashboard.OtlpHttpUrl.Port, _cancellationToken);
                    var connection = client.GetStream();
                    await connection.WriteAsync(_head, _cancellationToken);
                    await connection.WriteAsync(_body.AsMemory(0, 1024), _cancellationToken);
                    await Task.Delay(200, _cancellationToken);
                    if (client.Available == 0)
                    {
                        return Tuple.Create(client, connection);
                    }

                    client.Dispose();
                    return null;
                },
                "the slow export to hold the slot",
                _cancellationToken);
            _sent = 1024;
            _stopTrickle = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken);
            _trickle = Task.Run(async () =>
            {
                // About 20 kB/s: far above Kestrel's minimum, far below what the 4 MiB body needs to finish in the test.
                while (!_stopTrickle.IsCancellationRequested && _sent < _body.Length - 1024)
                {
                    await _stream.WriteAsync(_body.AsMemory(_sent, 1024), _cancellationToken);
                    _sent += 1024;
                    await Task.Delay(50, _stopTrickle.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });
        }

        private async Task CloseAsync()
        {
            await _stopTrickle.CancelAsync();
            try
            {
                await _trickle;
            }
            catch (IOException)
            {
                // A refused export's connection is closed by the dashboard while the body still trickles.
            }

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
