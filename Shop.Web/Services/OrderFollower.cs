namespace Shop.Web.Services;

/// <summary>What the order page says about following its order.</summary>
public enum OrderLiveState
{
    Connecting,
    Live,
    Reconnecting,

    /// <summary>The buyer's streams are all taken (other tabs): the order is read again now and then instead.</summary>
    TooManyStreams,
    Paused,
    Ended,
}

/// <summary>
/// Follows one order for its page until its final status: ordering's status stream, connected again (with backoff)
/// when it drops before the final status. While ordering refuses the stream because the buyer already has as many
/// open as it allows (a 429: other tabs following orders), the composed order is read again every
/// <see cref="RereadInterval"/> instead, and the stream tried again each time: a stale status that the page had
/// said was "Reconnecting…" misled the shopper.
/// </summary>
public sealed class OrderFollower(OrderingService ordering, OrderDetailsService composedOrders, TimeSpan? rereadInterval = null)
{
    /// <summary>How often the order is read again while no stream can be had.</summary>
    public static readonly TimeSpan RereadInterval = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Follows the order until <paramref name="isDone"/> (its final status, as the page shows it): each change goes to
    /// <paramref name="apply"/> as it comes, the order read again (without a stream) to <paramref name="reread"/>, and
    /// what the page should say about following to <paramref name="show"/>.
    /// </summary>
    /// <returns>True when the order is done; false when following stopped for good (<see cref="OrderLiveState.Paused"/>).</returns>
    public async Task<bool> FollowAsync(
        Guid orderId,
        Func<bool> isDone,
        Func<OrderStatusEvent, Task> apply,
        Func<OrderDetails, Task> reread,
        Func<OrderLiveState, Task> show,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(isDone);
        ArgumentNullException.ThrowIfNull(apply);
        ArgumentNullException.ThrowIfNull(reread);
        ArgumentNullException.ThrowIfNull(show);

        var failures = 0;
        while (!isDone())
        {
            try
            {
                // The stream replays the order's history first: its first event says the page is live.
                await foreach (var change in ordering.StreamStatusAsync(orderId, lastEventId: null, cancellationToken))
                {
                    failures = 0;
                    await apply(change);
                }

                if (isDone())
                {
                    break;
                }

                // The stream ended before the final status (ordering restarted, a proxy closed it): connect again.
                failures++;
            }
            catch (OrderingUnavailableException exception) when (exception.Status is StatusCodes.Status401Unauthorized or StatusCodes.Status404NotFound)
            {
                // The session's token expired during this long-lived page, or the order is gone: a reload fixes the first.
                await show(OrderLiveState.Paused);
                return false;
            }
            catch (OrderingUnavailableException exception) when (exception.Status == StatusCodes.Status429TooManyRequests)
            {
                failures = 0;
                await show(OrderLiveState.TooManyStreams);
                await ReadAgainAsync(orderId, reread, cancellationToken);
                if (isDone())
                {
                    break;
                }

                await Task.Delay(rereadInterval ?? RereadInterval, cancellationToken);
                continue;
            }
            catch (Exception exception) when (exception is OrderingUnavailableException or HttpRequestException or IOException or System.Text.Json.JsonException)
            {
                failures++;
            }

            await show(OrderLiveState.Reconnecting);
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, failures))), cancellationToken);
        }

        return true;
    }

    private async Task ReadAgainAsync(Guid orderId, Func<OrderDetails, Task> reread, CancellationToken cancellationToken)
    {
        try
        {
            if (await composedOrders.GetOrderDetailsAsync(orderId, cancellationToken) is { } fresh)
            {
                await reread(fresh);
            }
        }
        catch (OrderingUnavailableException)
        {
            // The page keeps what it shows; the next read may get through.
        }
    }
}
