using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Shop.Hosting;
using Shop.Hosting.ApplicationModel;
using Shop.Hosting.Testing;
using Shop.Tests.Checkout;
using Shop.Tests.Identity;
using Xunit.Abstractions;

namespace Shop.Tests.Products;

/// <summary>
/// Issue 5's "replicas included": products runs twice here, and service discovery gives the gateway and ordering
/// both addresses. With either replica killed, every catalog read through the gateway and every order's pricing
/// still succeed: a request whose connection the dead replica refuses goes to the other one. They could not if
/// either caller knew only one replica. And both replicas consume: each owns half of the orders topic.
/// </summary>
[Collection(SecondShopCollection.Name)]
public sealed class ProductsReplicasTests(SecondShopFixture shop, ITestOutputHelper output)
{
    [Fact]
    public async Task With_either_products_replica_killed_catalog_reads_and_order_pricing_through_the_gateway_all_succeed()
    {
        shop.Output = output;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var notifications = shop.App.ResourceNotifications;
        var checkout = new CheckoutDriver(shop.App);
        var product = await checkout.CreateProductAsync(stock: 10, price: 3m, ct);
        using var gateway = new ShopIdentityClient(shop.App).CreateGatewayClient();

        // Both replicas consume: each has its share of the orders topic's partitions (the event bus's round-robin
        // assignor), as the broker's group coordinator reports.
        using var admin = new AdminClientBuilder(new AdminClientConfig(await shop.App.GetKafkaClientConfigAsync("kafka", ct))).Build();
        var shares = await CheckoutDriver.EventuallyAsync(
            async () => (await admin.DescribeConsumerGroupsAsync(["products"])).ConsumerGroupDescriptions.Single().Members
                .Select(m => m.Assignment.TopicPartitions.Count(p => p.Topic == "ordering.orders")).Order().ToList(),
            counts => counts.SequenceEqual([3, 3]),
            "the two products replicas to share ordering.orders' six partitions",
            ct,
            intervalMs: 500);
        Assert.Equal([3, 3], shares);

        foreach (var replica in Enumerable.Range(0, SecondShopFixture.ProductsReplicas).Select(i => $"products-{i}"))
        {
            var running = await notifications.WaitForResourceHealthyAsync(replica, ct);
            Process.GetProcessById(running.Snapshot.ProcessId!.Value).Kill();
            await notifications.WaitForResourceAsync(replica, KnownResourceStates.Exited, ct);
            try
            {
                // Each search a new one, so that the gateway's response cache cannot answer for products.
                for (var i = 0; i < 40; i++)
                {
                    using var read = await gateway.GetAsync($"/api/products/items?pageSize=1&search={Guid.NewGuid():N}", ct);
                    Assert.True(read.StatusCode == HttpStatusCode.OK,
                        $"With {replica} down, catalog read {i} answered {(int)read.StatusCode}: {await read.Content.ReadAsStringAsync(ct)}");
                }

                // Ordering prices an order with products over HTTP: its client, too, goes to the replica that is up.
                using var shopper = await checkout.NewShopperAsync($"replicas-{replica}", ct);
                using var placed = await shopper.PostOrderAsync(Shopper.Cart((product.Id, 2)), Guid.NewGuid().ToString(), ct);
                var body = await placed.Content.ReadAsStringAsync(ct);
                Assert.True(placed.StatusCode == HttpStatusCode.Created, $"With {replica} down, placing an order answered {(int)placed.StatusCode}: {body}");
                Assert.Equal(6m, JsonDocument.Parse(body).RootElement.GetProperty("total").GetDecimal());
            }
            finally
            {
                await shop.App.EnsureRunningAsync(replica);
            }
        }
    }
}
