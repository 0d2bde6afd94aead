using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Shop.Dashboard.Tests.Infrastructure;

namespace Shop.Dashboard.Tests;

public sealed class OtlpConcurrencyTests
{
    [Fact]
    public async Task Otlp_http_exports_beyond_the_concurrency_limit_get_429_with_retry_after()
    {
        using var timeout = Poll.Timeout();
        await using var dashboard = await DashboardProcess.StartAsync(
            new Dictionary<string, string> { ["Dashboard__Otlp__MaxConcurrentHttpRequests"] = "1" }, secured: false, cancellationToken: timeout.Token);
        using var http = new HttpClient { BaseAddress = dashboard.OtlpHttpUrl };

        // An export whose body arrives slowly holds the only slot until the rest is sent (raw HTTP/1.1, so nothing
        // between the test and the socket holds the partial body back). Slowly, not stalled: Kestrel aborts a body
        // slower than 240 bytes/s after 5 s, which freed the slot before a loaded CI machine saw the 429. The padding
        // is an unknown field, which the parser skips.
        var body = WithUnknownField(OtlpReceiverTests.Request("slow-exporter").ToByteArray(), 4 * 1024 * 1024);
        var head = Encoding.ASCII.GetBytes(
            $"POST /v1/traces HTTP/1.1\r\nHost: {dashboard.OtlpHttpUrl.Authority}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        // When the test project runs whole, some other export now and then holds the slot as the slow one starts, and
        // the slow one gets the 429: it starts again until it is the one holding the slot (it has no answer yet).
        var (slow, stream) = await Poll.UntilAsync(
            async () =>
            {
                var client = new TcpClient();
                await client.ConnectAsync(dashboard.OtlpHttpUrl.Host, dashboard.OtlpHttpUrl.Port, timeout.Token);
                var connection = client.GetStream();
                await connection.WriteAsync(head, timeout.Token);
                await connection.WriteAsync(body.AsMemory(0, 1024), timeout.Token);
                await Task.Delay(200, timeout.Token);
                if (client.Available == 0)
                {
                    return Tuple.Create(client, connection);
                }

                client.Dispose();
                return null;
            },
            "the slow export to hold the slot",
            timeout.Token);
        using var slowClient = slow;
        using var stopTrickle = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var sent = 1024;
        var trickle = Task.Run(async () =>
        {
            // About 20 kB/s: far above Kestrel's minimum, far below what the 4 MiB body needs to finish in the test.
            while (!stopTrickle.IsCancellationRequested && sent < body.Length - 1024)
            {
                await stream.WriteAsync(body.AsMemory(sent, 1024), timeout.Token);
                sent += 1024;
                await Task.Delay(50, stopTrickle.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });

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
                Assert.Equal(0, slow.Available);
                return null;
            },
            "a 429 while the slow export holds the slot",
            timeout.Token);
        using (busy)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        }

        await stopTrickle.CancelAsync();
        await trickle;
        await stream.WriteAsync(body.AsMemory(sent), timeout.Token);
        using (var reader = new StreamReader(stream))
        {
            Assert.StartsWith("HTTP/1.1 200", await reader.ReadLineAsync(timeout.Token), StringComparison.Ordinal);
        }

        // The slot is free again.
        using var after = await http.SendAsync(Post(new ByteArrayContent(OtlpReceiverTests.Request("eager-exporter").ToByteArray())), timeout.Token);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
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

    private static HttpRequestMessage Post(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content };
    }
}
