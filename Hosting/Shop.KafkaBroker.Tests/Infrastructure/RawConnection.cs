using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Shop.KafkaBroker.Tests.Infrastructure;

/// <summary>A bare TCP connection to the broker for sending hand-made (and malformed) frames.</summary>
public sealed class RawConnection : IDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;

    public static async Task<RawConnection> OpenAsync(int port)
    {
        var connection = new RawConnection();
        await connection._client.ConnectAsync("127.0.0.1", port);
        connection._stream = connection._client.GetStream();
        return connection;
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Reads one response frame (without its size prefix), or null when the broker closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            var prefix = new byte[4];
            if (!await ReadExactlyAsync(prefix, cancellation.Token))
            {
                return null;
            }

            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
            return await ReadExactlyAsync(body, cancellation.Token) ? body : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    /// <summary>A request frame: size, api key, version, correlation id, client id, body.</summary>
    public static byte[] Request(short apiKey, short version, int correlationId, byte[] body)
    {
        var clientId = Encoding.UTF8.GetBytes("raw-test");
        var frame = new byte[4 + 2 + 2 + 4 + 2 + clientId.Length + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), apiKey);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), version);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), correlationId);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(12), (short)clientId.Length);
        clientId.CopyTo(frame, 14);
        body.CopyTo(frame, 14 + clientId.Length);
        return frame;
    }

    public void Dispose() => _client.Dispose();
}
