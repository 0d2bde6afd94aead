using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Handlers;
using Shop.KafkaBroker.Protocol;
using Shop.KafkaBroker.Security;
using Shop.KafkaBroker.Telemetry;

namespace Shop.KafkaBroker.Network;

/// <summary>
/// One client connection. The read loop frames requests and starts each handler in arrival order; a
/// bounded queue of pending responses feeds the write loop, which sends them strictly in request order.
/// So a produce waiting for its fsync or a long-polled fetch never stalls reading, yet answers never
/// overtake each other. A frame that cannot be decoded closes this connection only, and so does a failed SASL
/// exchange, once its answer is sent. Until the connection authenticated, frames are limited to 512 KiB (Kafka's
/// <c>sasl.server.max.receive.size</c>), so an anonymous client cannot make the broker buffer a large request.
/// </summary>
public sealed partial class ClientConnection(
    Socket socket,
    RequestDispatcher dispatcher,
    BrokerMetrics metrics,
    int maxRequestBytes,
    ILogger logger)
{
    private const int MinimumFrameSize = 8;
    private const int MaxPendingResponses = 64;
    private const int MaxUnauthenticatedFrameSize = 512 * 1024;

    private readonly CancellationTokenSource _closed = new();
    private readonly string _remote = socket.RemoteEndPoint?.ToString() ?? "unknown";
    private readonly SaslSession _session = new(dispatcher.AuthenticationRequired);

    public void Close()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async Task RunAsync()
    {
        var clientHost = "/" + (socket.RemoteEndPoint is System.Net.IPEndPoint ip ? ip.Address.ToString() : _remote);
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 16384));
        var responses = Channel.CreateBounded<ValueTask<ResponseWriter?>>(new BoundedChannelOptions(MaxPendingResponses)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var writing = WriteLoopAsync(stream, responses.Reader);
        try
        {
            await ReadLoopAsync(reader, responses.Writer, clientHost);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogDisconnected(logger, _remote, ex.Message);
        }
        finally
        {
            responses.Writer.TryComplete();
            await _closed.CancelAsync();
            await writing;
            await reader.CompleteAsync();
        }
    }

    private async Task ReadLoopAsync(PipeReader reader, ChannelWriter<ValueTask<ResponseWriter?>> responses, string clientHost)
    {
        while (!_closed.IsCancellationRequested)
        {
            var result = await reader.ReadAsync(_closed.Token);
            var buffer = result.Buffer;
            try
            {
                while (TryReadFrame(ref buffer, out var frame, out var length))
                {
                    ValueTask<ResponseWriter?> response;
                    try
                    {
                        response = dispatcher.DispatchAsync(frame, length, clientHost, _session, _closed.Token);
                    }
                    catch (Exception ex) when (ex is ProtocolException or UnsupportedRequestException or UnauthenticatedRequestException)
                    {
                        Reject(ex switch { ProtocolException => "malformed", UnauthenticatedRequestException => "unauthenticated", _ => "unsupported" }, ex.Message);
                        return;
                    }
                    finally
                    {
                        NetworkBuffers.Pool.Return(frame);
                    }

                    await responses.WriteAsync(response, _closed.Token);
                    if (_session.CloseReason is { } reason)
                    {
                        // The answer is queued; the write loop sends it before the connection closes.
                        Reject("authentication", reason);
                        return;
                    }
                }
            }
            catch (FrameException ex)
            {
                Reject("framing", ex.Message);
                return;
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    Reject("truncated", $"connection closed in the middle of a frame ({buffer.Length} bytes pending)");
                }

                return;
            }
        }
    }

    private void Reject(string reason, string message)
    {
        metrics.RequestRejected(reason);
        LogRejected(logger, _remote, message);
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[] frame, out int length)
    {
        frame = [];
        length = 0;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        // A bare SASL token (after SaslHandshake v0) has no request header, so it may be shorter than one.
        var minimum = _session.Stage == SaslStage.LegacyToken ? 1 : MinimumFrameSize;
        var maximum = _session.IsAuthenticated ? maxRequestBytes : Math.Min(maxRequestBytes, MaxUnauthenticatedFrameSize);
        if (size < minimum || size > maximum)
        {
            throw new FrameException($"request size {size} is outside {minimum}..{maximum} bytes{(_session.IsAuthenticated ? "" : " (before authentication)")}");
        }

        if (buffer.Length < 4L + size)
        {
            return false;
        }

        frame = NetworkBuffers.Pool.Rent(size);
        buffer.Slice(4, size).CopyTo(frame);
        buffer = buffer.Slice(4 + size);
        length = size;
        return true;
    }

    private async Task WriteLoopAsync(NetworkStream stream, ChannelReader<ValueTask<ResponseWriter?>> responses)
    {
        var healthy = true;
        await foreach (var pending in responses.ReadAllAsync())
        {
            ResponseWriter? response = null;
            try
            {
                response = await pending;
                if (response is not null && healthy)
                {
                    await stream.WriteAsync(response.Frame);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                healthy = false;
                await _closed.CancelAsync();
            }
            catch (Exception ex)
            {
                healthy = false;
                LogHandlerFailed(logger, _remote, ex);
                await _closed.CancelAsync();
                socket.Close();
            }
            finally
            {
                response?.Dispose();
            }
        }
    }

    private sealed class FrameException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing connection from {Remote}: {Problem}")]
    private static partial void LogRejected(ILogger logger, string remote, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection from {Remote} ended: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A request from {Remote} failed; closing the connection")]
    private static partial void LogHandlerFailed(ILogger logger, string remote, Exception exception);
}
