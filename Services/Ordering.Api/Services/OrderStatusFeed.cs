using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using Ordering.Api.Infrastructure;
using Ordering.Api.Model;

namespace Ordering.Api.Services;

/// <summary>
/// Status changes of orders as they commit, handed to the streams of each buyer connected to this replica. A
/// trigger on the status history notifies <see cref="OrderingContext.StatusChannel"/>; PostgreSQL delivers the
/// notification only after the transaction commits, to every replica that listens, so a stream never shows a
/// change that was rolled back, whichever replica made it.
/// </summary>
public sealed class OrderStatusFeed
{
    /// <summary>Changes a slow stream may fall behind before it is closed (its client reconnects and catches up from the history).</summary>
    public const int SubscriberCapacity = 256;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Subscription, byte>> _subscribers = new(StringComparer.Ordinal);

    public Subscription Subscribe(string buyerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(buyerId);
        var subscription = new Subscription(this, buyerId);
        _subscribers.GetOrAdd(buyerId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    public void Publish(string buyerId, CommittedChange change)
    {
        if (_subscribers.TryGetValue(buyerId, out var subscriptions))
        {
            foreach (var subscription in subscriptions.Keys)
            {
                subscription.Offer(change);
            }
        }
    }

    /// <summary>Ends every stream: changes may have been missed (the listener lost its connection); clients reconnect and catch up.</summary>
    public void Interrupt()
    {
        foreach (var subscription in _subscribers.Values.SelectMany(s => s.Keys))
        {
            subscription.Complete();
        }
    }

    private void Remove(Subscription subscription)
    {
        if (_subscribers.TryGetValue(subscription.BuyerId, out var subscriptions))
        {
            subscriptions.TryRemove(subscription, out _);
            if (subscriptions.IsEmpty)
            {
                _subscribers.TryRemove(new KeyValuePair<string, ConcurrentDictionary<Subscription, byte>>(subscription.BuyerId, subscriptions));
            }
        }
    }

    public sealed class Subscription : IDisposable
    {
        private readonly OrderStatusFeed _feed;
        private readonly Channel<CommittedChange> _changes = Channel.CreateBounded<CommittedChange>(
            new BoundedChannelOptions(SubscriberCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        internal Subscription(OrderStatusFeed feed, string buyerId)
        {
            _feed = feed;
            BuyerId = buyerId;
        }

        public string BuyerId { get; }

        public ChannelReader<CommittedChange> Changes => _changes.Reader;

        internal void Offer(CommittedChange change)
        {
            if (!_changes.Writer.TryWrite(change))
            {
                // Full: end the stream rather than drop a change silently; the client resumes from Last-Event-ID.
                Complete();
            }
        }

        internal void Complete() => _changes.Writer.TryComplete();

        public void Dispose()
        {
            Complete();
            _feed.Remove(this);
        }
    }
}

/// <summary>
/// A change as its transaction committed, with the resume cursor it makes safe: the oldest transaction still running
/// when the change was recorded (the notification's <c>cursor</c>). Every transaction below it had finished by then,
/// and so had notified before this one (notifications arrive in commit order): a stream that sent this change has sent
/// every change of those transactions, and a client resuming from the cursor only needs changes of transactions from
/// it on (<see cref="OrderQueries.ChangesSinceAsync"/>).
/// </summary>
public sealed record CommittedChange(OrderStatusEvent Change, long Cursor);

/// <summary>Listens on <see cref="OrderingContext.StatusChannel"/> on a connection of its own, reconnecting when it drops.</summary>
public sealed partial class OrderStatusListener(
    IConfiguration configuration,
    OrderStatusFeed feed,
    TimeProvider timeProvider,
    ILogger<OrderStatusListener> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString(Extensions.Extensions.DatabaseConnectionName))
        {
            // A dead server is noticed within seconds, not when the operating system gives up on the socket.
            KeepAlive = 10,
            Pooling = false,
        }.ConnectionString;
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, notification) => Dispatch(notification.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {OrderingContext.StatusChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Streams opened while nothing listened may have missed changes: let them reconnect and catch up.
                feed.Interrupt();
                delay = TimeSpan.FromMilliseconds(250);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                LogListenFailed(logger, exception, delay.TotalMilliseconds);
                feed.Interrupt();
                await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private void Dispatch(string payload)
    {
        try
        {
            var notification = JsonSerializer.Deserialize<StatusNotification>(payload, JsonOptions)
                ?? throw new JsonException("The notification is empty.");
            feed.Publish(notification.BuyerId, new CommittedChange(
                new OrderStatusEvent(notification.Id, notification.OrderId, notification.Status, notification.Reason, notification.At),
                notification.Cursor));
        }
        catch (JsonException exception)
        {
            LogBadNotification(logger, exception, payload);
        }
    }

    /// <summary>The JSON the history trigger sends (see the migration that creates it).</summary>
    private sealed record StatusNotification(long Id, long Cursor, Guid OrderId, string BuyerId, OrderStatus Status, string? Reason, DateTimeOffset At);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for order status changes failed; retrying in {DelayMs} ms")]
    private static partial void LogListenFailed(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "An order status notification could not be read: {Payload}")]
    private static partial void LogBadNotification(ILogger logger, Exception exception, string payload);
}
