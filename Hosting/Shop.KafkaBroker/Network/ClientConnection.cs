using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;
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
/// <c>sasl.server.max.receive.size</c>), so an anonymous client cannot make the broker buffer a large request. A timer
/// closes a connection idle for <c>connections.max.idle.ms</c> and, with users, one that has not authenticated in
/// time, so idle or anonymous sockets cannot pile up until the process runs out of descriptors.
/// </summary>
public sealed partial class ClientConnection(
    Socket socket,
    RequestDispatcher dispatcher,
    BrokerMetrics metrics,
    BrokerOptions options,
    ILogger logger)
{
    private const int MinimumFrameSize = 8;
    private const int MaxPendingResponses = 64;
    private const int MaxUnauthenticatedFrameSize = 512 * 1024;

    private readonly CancellationTokenSource _closed = new();
    private readonly string _remote = socket.RemoteEndPoint?.ToString() ?? "unknown";
    private readonly SaslSession _session = new(dispatcher.AuthenticationRequired);
    private readonly long _openedAt = Environment.TickCount64;
    private long _lastActivity = Environment.TickCount64;
    private int _pendingResponses;

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
        var checkEvery = TimeSpan.FromMilliseconds(Math.Clamp(Math.Min(options.ConnectionsMaxIdleMs, options.SaslAuthenticationTimeoutMs) / 4, 10, 1000));
        await using var deadlines = new Timer(_ => CheckDeadlines(), null, checkEvery, checkEvery);
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
            Volatile.Write(ref _lastActivity, Environment.TickCount64);
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

                    Interlocked.Increment(ref _pendingResponses);
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

    /// <summary>Runs on a timer: a request still being answered (a long-polled fetch, a join) keeps the connection busy, not idle.</summary>
    private void CheckDeadlines()
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        var now = Environment.TickCount64;
        if (!_session.IsAuthenticated && now - _openedAt >= options.SaslAuthenticationTimeoutMs)
        {
            Reject("authentication", $"SASL authentication not completed within {options.SaslAuthenticationTimeoutMs} ms");
            Close();
        }
        else if (Volatile.Read(ref _pendingResponses) == 0 && now - Volatile.Read(ref _lastActivity) >= options.ConnectionsMaxIdleMs)
        {
            LogIdle(logger, _remote, options.ConnectionsMaxIdleMs);
            Close();
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
        var maximum = _session.IsAuthenticated ? options.MaxRequestBytes : Math.Min(options.MaxRequestBytes, MaxUnauthenticatedFrameSize);
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
                Volatile.Write(ref _lastActivity, Environment.TickCount64);
                Interlocked.Decrement(ref _pendingResponses);
            }
        }
    }

    private sealed class FrameException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing connection from {Remote}: {Problem}")]
    private static partial void LogRejected(ILogger logger, string remote, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing connection from {Remote}: idle for {IdleMs} ms")]
    private static partial void LogIdle(ILogger logger, string remote, int idleMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection from {Remote} ended: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A request from {Remote} failed; closing the connection")]
    private static partial void LogHandlerFailed(ILogger logger, string remote, Exception exception);
}
