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

        // An export whose body stalls half-way holds the only slot until the rest is sent (raw HTTP/1.1, so nothing
        // between the test and the socket holds the partial body back).
        var body = OtlpReceiverTests.Request("slow-exporter").ToByteArray();
        using var slow = new TcpClient();
        await slow.ConnectAsync(dashboard.OtlpHttpUrl.Host, dashboard.OtlpHttpUrl.Port, timeout.Token);
        var stream = slow.GetStream();
        var head = $"POST /v1/traces HTTP/1.1\r\nHost: {dashboard.OtlpHttpUrl.Authority}\r\nContent-Type: application/x-protobuf\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token);
        await stream.WriteAsync(body.AsMemory(0, body.Length / 2), timeout.Token);

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
                return null;
            },
            "a 429 while the slow export holds the slot",
            timeout.Token);
        using (busy)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
        }

        await stream.WriteAsync(body.AsMemory(body.Length / 2), timeout.Token);
        using (var reader = new StreamReader(stream))
        {
            Assert.StartsWith("HTTP/1.1 200", await reader.ReadLineAsync(timeout.Token), StringComparison.Ordinal);
        }

        // The slot is free again.
        using var after = await http.SendAsync(Post(new ByteArrayContent(OtlpReceiverTests.Request("eager-exporter").ToByteArray())), timeout.Token);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private static HttpRequestMessage Post(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = content };
    }
}
