using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Kafka;

/// <summary>
/// A real Kafka round trip for the health check: a Metadata v1 request for no topics, answered with at least one
/// broker. Small enough to write by hand, so the hosting layer needs no Kafka client.
/// </summary>
internal static class KafkaMetadataProbe
{
    private const short MetadataApiKey = 3;
    private const short MetadataVersion = 1;
    private const string ClientId = "shop-hosting-health";

    public static async Task<HealthCheckOutcome> CheckAsync(string bootstrapServers, CancellationToken cancellationToken)
    {
        var (host, port) = FirstServer(bootstrapServers);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cancellationToken);
        await using var stream = client.GetStream();

        const int correlationId = 0x5107;
        await stream.WriteAsync(BuildRequest(correlationId), cancellationToken);

        var sizeBytes = new byte[4];
        await stream.ReadExactlyAsync(sizeBytes, cancellationToken);
        var size = BinaryPrimitives.ReadInt32BigEndian(sizeBytes);
        if (size is < 12 or > 1 << 20)
        {
            return HealthCheckOutcome.Unhealthy($"Metadata response of implausible size {size}");
        }

        var response = new byte[size];
        await stream.ReadExactlyAsync(response, cancellationToken);
        var answeredId = BinaryPrimitives.ReadInt32BigEndian(response);
        var brokers = BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(4));
        return answeredId != correlationId
            ? HealthCheckOutcome.Unhealthy($"Metadata response for correlation id {answeredId}, expected {correlationId}")
            : brokers < 1
                ? HealthCheckOutcome.Unhealthy("Metadata response lists no broker")
                : HealthCheckOutcome.Healthy;
    }

    private static byte[] BuildRequest(int correlationId)
    {
        var clientId = Encoding.UTF8.GetBytes(ClientId);
        // size, api key, version, correlation id, client id (int16 length + bytes), topics array (int32 count 0 = none).
        var request = new byte[4 + 2 + 2 + 4 + 2 + clientId.Length + 4];
        var span = request.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, request.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], MetadataApiKey);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], MetadataVersion);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], correlationId);
        BinaryPrimitives.WriteInt16BigEndian(span[12..], (short)clientId.Length);
        clientId.CopyTo(span[14..]);
        BinaryPrimitives.WriteInt32BigEndian(span[(14 + clientId.Length)..], 0);
        return request;
    }

    private static (string Host, int Port) FirstServer(string bootstrapServers)
    {
        var first = bootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? throw new DistributedApplicationException("The Kafka connection string names no bootstrap server.");
        var separator = first.LastIndexOf(':');
        return separator > 0 && int.TryParse(first[(separator + 1)..], out var port)
            ? (first[..separator], port)
            : (first, 9092);
    }
}
