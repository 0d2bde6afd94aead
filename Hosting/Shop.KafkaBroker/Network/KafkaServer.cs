using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.KafkaBroker.Configuration;
using Shop.KafkaBroker.Groups;
using Shop.KafkaBroker.Handlers;
using Shop.KafkaBroker.Security;
using Shop.KafkaBroker.Storage;
using Shop.KafkaBroker.Telemetry;

namespace Shop.KafkaBroker.Network;

/// <summary>
/// Opens the logs, binds the listener, announces the address on stdout and accepts connections. On
/// shutdown it stops accepting, closes every connection and makes everything appended durable.
/// </summary>
public sealed partial class KafkaServer(
    BrokerOptions options,
    BrokerEndpoint endpoint,
    TopicStore topics,
    OffsetStore offsets,
    GroupCoordinator coordinator,
    FlushScheduler flusher,
    RequestDispatcher dispatcher,
    BrokerSecurity security,
    BrokerMetrics metrics,
    TimeProvider time,
    ILogger<KafkaServer> logger) : IHostedService
{
    private static readonly TimeSpan MinAcceptBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<ClientConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task _accepting = Task.CompletedTask;
    private Task _retention = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        topics.Load();
        offsets.Load();
        coordinator.Start();

        var address = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            _listener.DualMode = true;
        }

        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(address, options.Port));
        _listener.Listen(512);
        endpoint.Host = options.EffectiveAdvertisedHost;
        endpoint.Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;

        Console.Out.WriteLine($"Kafka broker listening on {endpoint.Host}:{endpoint.Port}");
        Console.Out.Flush();
        LogListening(logger, options.Host, endpoint.Port, endpoint.Host, options.DataDir, options.Flush.ToString(),
            security.Enabled ? $"SASL_PLAINTEXT (PLAIN, {security.UserCount} users)" : "PLAINTEXT (no authentication)");

        _accepting = Task.Run(AcceptLoopAsync, CancellationToken.None);
        _retention = Task.Run(RetentionLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync()
    {
        var backoff = TimeSpan.Zero;
        var refusedInBurst = 0;
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    break;
                }

                // Out of descriptors (EMFILE) the pending connection stays queued, so retrying at once would spin.
                if (backoff == TimeSpan.Zero)
                {
                    LogAcceptFailing(logger, ex);
                }

                backoff = backoff == TimeSpan.Zero ? MinAcceptBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxAcceptBackoff.Ticks));
                try
                {
                    await Task.Delay(backoff, time, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                }

                continue;
            }

            backoff = TimeSpan.Zero;
            if (_connections.Count >= options.MaxConnections)
            {
                if (refusedInBurst++ == 0)
                {
                    LogTooManyConnections(logger, options.MaxConnections);
                }

                metrics.RequestRejected("connections");
                socket.Dispose();
                continue;
            }

            refusedInBurst = 0;
            socket.NoDelay = true;
            var connection = new ClientConnection(socket, dispatcher, metrics, options, logger);
            metrics.ConnectionOpened();
            _connections[connection] = RunConnectionAsync(connection);
        }
    }

    private async Task RunConnectionAsync(ClientConnection connection)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync();
        }
        catch (Exception ex)
        {
            LogConnectionFailed(logger, ex);
        }
        finally
        {
            metrics.ConnectionClosed();
            _connections.TryRemove(connection, out _);
        }
    }

    private async Task RetentionLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.RetentionCheckIntervalMs), time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (var topic in topics.Topics)
                {
                    foreach (var partition in topic.Partitions)
                    {
                        var deleted = partition.ApplyRetention(topic.Config, now);
                        if (deleted > 0)
                        {
                            LogRetention(logger, topic.Name, partition.Partition, deleted, partition.LogStartOffset);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        _listener?.Dispose();
        await _accepting;
        await _retention;
        foreach (var connection in _connections.Keys)
        {
            connection.Close();
        }

        try
        {
            await Task.WhenAll(_connections.Values).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            LogConnectionsLingering(logger, _connections.Count);
        }
        await coordinator.DisposeAsync();
        flusher.FlushAll();
        await flusher.DisposeAsync();
        offsets.Dispose();
        topics.Dispose();
        LogStopped(logger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka broker listening on {BindHost}:{Port} (advertised as {AdvertisedHost}), data in {DataDir}, flush policy {Flush}, security {Security}")]
    private static partial void LogListening(ILogger logger, string bindHost, int port, string advertisedHost, string dataDir, string flush, string security);

    [LoggerMessage(Level = LogLevel.Error, Message = "Accepting connections fails; retrying with a growing pause")]
    private static partial void LogAcceptFailing(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{MaxConnections} connections are open (max-connections); closing new ones until some end")]
    private static partial void LogTooManyConnections(ILogger logger, int maxConnections);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted {Segments} segments of {Topic}-{Partition}; log now starts at {LogStartOffset}")]
    private static partial void LogRetention(ILogger logger, string topic, int partition, int segments, long logStartOffset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Connections} connections still closing at shutdown")]
    private static partial void LogConnectionsLingering(ILogger logger, int connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka broker stopped; all data flushed")]
    private static partial void LogStopped(ILogger logger);
}
