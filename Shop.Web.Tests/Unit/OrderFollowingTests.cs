using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Web.Services;

namespace Shop.Web.Tests.Unit;

/// <summary>
/// The order page's following of its order (<see cref="OrderFollower"/>) when ordering refuses the status stream
/// because the buyer already has as many open as it allows (429): the tester's page said "Reconnecting…" and kept a
/// stale status.
/// </summary>
public class OrderFollowingTests
{
    private static readonly Guid OrderId = Guid.Parse("019af8c2-3b1e-7c4d-9a2f-5e6b7c8d9e10");

    private const string TooManyStreams = """
        {"type":"https://www.rfc-editor.org/rfc/rfc6585#section-4","title":"Too many order status streams.","status":429,
         "detail":"You already have 8 order status streams open, the most one user may have at once."}
        """;

    [Fact]
    public async Task While_the_buyers_streams_are_all_taken_the_page_says_so_and_reads_the_order_again_until_it_is_final()
    {
        var gateway = new Gateway(Composed("StockReserved"), Composed("Confirmed"));
        using var http = new HttpClient(gateway) { BaseAddress = new Uri("http://gateway") };
        var follower = new OrderFollower(
            new OrderingService(http, NullLogger<OrderingService>.Instance),
            new OrderDetailsService(http, NullLogger<OrderDetailsService>.Instance),
            rereadInterval: TimeSpan.FromMilliseconds(1));
        var status = "Submitted";
        List<string> read = [];
        List<OrderLiveState> said = [];
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var done = await follower.FollowAsync(
            OrderId,
            isDone: () => status == "Confirmed",
            apply: _ => Task.CompletedTask,
            reread: details =>
            {
                status = details.Order.Status.ToString();
                read.Add(status);
                return Task.CompletedTask;
            },
            show: state =>
            {
                said.Add(state);
                return Task.CompletedTask;
            },
            patience.Token);

        Assert.True(done);
        Assert.Equal(["StockReserved", "Confirmed"], read);
        Assert.Equal([OrderLiveState.TooManyStreams, OrderLiveState.TooManyStreams], said);
        Assert.Equal(2, gateway.StreamTries);
    }

    private static string Composed(string status) => $$"""
        {
          "order": {
            "id": "{{OrderId}}", "status": "{{status}}", "total": 179.0, "currency": "USD",
            "createdAt": "2026-11-24T12:00:00+00:00", "updatedAt": "2026-11-24T12:01:00+00:00", "cancellationReason": null,
            "lines": [{ "productId": 1, "productName": "Lamp", "pictureUrl": null, "unitPrice": 179.0, "quantity": 1, "lineTotal": 179.0 }],
            "history": [{ "id": 11, "status": "Submitted", "reason": null, "at": "2026-11-24T12:00:00+00:00" },
                        { "id": 12, "status": "{{status}}", "reason": null, "at": "2026-11-24T12:01:00+00:00" }]
          },
          "payments": [],
          "products": [],
          "unavailable": [],
          "notPermitted": []
        }
        """;

    /// <summary>A gateway that refuses every status stream with ordering's 429 and composes the order as it moves on.</summary>
    private sealed class Gateway(params string[] composed) : HttpMessageHandler
    {
        private int _reads;

        public int StreamTries { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/events", StringComparison.Ordinal))
            {
                StreamTries++;
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.TooManyRequests)
                {
                    Content = new StringContent(TooManyStreams, Encoding.UTF8, "application/problem+json"),
                });
            }

            var json = composed[Math.Min(_reads++, composed.Length - 1)];
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        }
    }
}
