using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Shop.Hosting.ApplicationModel;

namespace Shop.Hosting.Kafka;

/// <summary>
/// A real Kafka round trip for the health check, small enough to write by hand so the hosting layer needs no Kafka
/// client. With credentials (the broker the AppHost runs): SaslHandshake v1 and SaslAuthenticate v0 with PLAIN, then
/// a Metadata v1 request for no topics, answered with at least one broker. Without (an existing cluster, whose
/// security the AppHost does not know): ApiVersions v0, which every Kafka broker answers before authentication.
/// </summary>
internal static class KafkaProbe
{
    private const short MetadataApiKey = 3;
    private const short ApiVersionsApiKey = 18;
    private const short SaslHandshakeApiKey = 17;
    private const short SaslAuthenticateApiKey = 36;
    private const string ClientId = "shop-hosting-health";

    public static async Task<HealthCheckOutcome> CheckAsync(string bootstrapServers, (string User, string Password)? credentials, CancellationToken cancellationToken)
    {
        var (host, port) = FirstServer(bootstrapServers);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cancellationToken);
        await using var stream = client.GetStream();

        if (credentials is not { } login)
        {
            var versions = await RoundTripAsync(stream, ApiVersionsApiKey, 0, 0x5106, [], cancellationToken);
            return versions.Length < 6 ? HealthCheckOutcome.Unhealthy("ApiVersions response too short")
                : BinaryPrimitives.ReadInt16BigEndian(versions) is var versionsError and not 0 ? HealthCheckOutcome.Unhealthy($"ApiVersions answered error {versionsError}")
                : HealthCheckOutcome.Healthy;
        }

        var handshake = await RoundTripAsync(stream, SaslHandshakeApiKey, 1, 0x5101, KafkaString("PLAIN"), cancellationToken);
        if (BinaryPrimitives.ReadInt16BigEndian(handshake) is var handshakeError and not 0)
        {
            return HealthCheckOutcome.Unhealthy($"SaslHandshake (PLAIN) answered error {handshakeError}");
        }

        var token = Encoding.UTF8.GetBytes($"\0{login.User}\0{login.Password}");
        var authenticateBody = new byte[4 + token.Length];
        BinaryPrimitives.WriteInt32BigEndian(authenticateBody, token.Length);
        token.CopyTo(authenticateBody, 4);
        var authenticated = await RoundTripAsync(stream, SaslAuthenticateApiKey, 0, 0x5102, authenticateBody, cancellationToken);
        if (BinaryPrimitives.ReadInt16BigEndian(authenticated) is var authenticateError and not 0)
        {
            var length = BinaryPrimitives.ReadInt16BigEndian(authenticated.AsSpan(2));
            var message = length > 0 ? Encoding.UTF8.GetString(authenticated, 4, length) : "no message";
            return HealthCheckOutcome.Unhealthy($"SASL authentication as {login.User} failed (error {authenticateError}): {message}");
        }

        // Metadata v1: topics array with count 0 = none.
        var metadata = await RoundTripAsync(stream, MetadataApiKey, 1, 0x5107, [0, 0, 0, 0], cancellationToken);
        return BinaryPrimitives.ReadInt32BigEndian(metadata) < 1
            ? HealthCheckOutcome.Unhealthy("Metadata response lists no broker")
            : HealthCheckOutcome.Healthy;
    }

    /// <summary>Sends one request (header v1) and returns the response body after its correlation id.</summary>
    private static async Task<byte[]> RoundTripAsync(NetworkStream stream, short apiKey, short version, int correlationId, byte[] body, CancellationToken cancellationToken)
    {
        var clientId = Encoding.UTF8.GetBytes(ClientId);
        // size, api key, version, correlation id, client id (int16 length + bytes), body.
        var request = new byte[4 + 2 + 2 + 4 + 2 + clientId.Length + body.Length];
        var span = request.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, request.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], apiKey);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], version);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], correlationId);
        BinaryPrimitives.WriteInt16BigEndian(span[12..], (short)clientId.Length);
        clientId.CopyTo(span[14..]);
        body.CopyTo(span[(14 + clientId.Length)..]);
        await stream.WriteAsync(request, cancellationToken);

        var sizeBytes = new byte[4];
        await stream.ReadExactlyAsync(sizeBytes, cancellationToken);
        var size = BinaryPrimitives.ReadInt32BigEndian(sizeBytes);
        if (size is < 8 or > 1 << 20)
        {
            throw new DistributedApplicationException($"Kafka answered request {apiKey} with a response of implausible size {size}.");
        }

        var response = new byte[size];
        await stream.ReadExactlyAsync(response, cancellationToken);
        var answeredId = BinaryPrimitives.ReadInt32BigEndian(response);
        return answeredId == correlationId
            ? response[4..]
            : throw new DistributedApplicationException($"Kafka answered correlation id {answeredId}, expected {correlationId}.");
    }

    private static byte[] KafkaString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var result = new byte[2 + bytes.Length];
        BinaryPrimitives.WriteInt16BigEndian(result, (short)bytes.Length);
        bytes.CopyTo(result, 2);
        return result;
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
