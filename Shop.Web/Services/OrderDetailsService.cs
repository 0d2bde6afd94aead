using System.Net;
using System.Text.Json;

namespace Shop.Web.Services;

/// <summary>
/// The composed order page (order, payments, products) from the gateway's BFF endpoint, with the signed-in user's
/// access token. A client of its own because its timeouts differ from the other calls': the gateway gives the order
/// and each optional part a budget of its own and answers within <see cref="GatewayBudget"/> with what it has, so
/// this call waits longer than that and does not send again a request that is still being composed.
/// </summary>
public sealed partial class OrderDetailsService(HttpClient http, ILogger<OrderDetailsService> logger)
{
    /// <summary>The longest the gateway takes to compose an order: 10 s for the order, then 3 s for the other parts.</summary>
    public static readonly TimeSpan GatewayBudget = TimeSpan.FromSeconds(13);

    /// <summary>One try's timeout: past the gateway's budget, so a try ends with the gateway's answer, not before it.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Every try's together: room for quick retries of a failed answer (a 503), not for a second slow try.</summary>
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(20);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The composed order, or null when the user has no such order.</summary>
    /// <exception cref="OrderingUnavailableException">No answer, or a refusal, with the message to show.</exception>
    public async Task<OrderDetails?> GetOrderDetailsAsync(Guid orderId, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await http.GetAsync($"/api/bff/orders/{orderId}", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                var problem = await ApiProblem.ReadAsync(response, cancellationToken);
                LogRefused(logger, problem.Status, problem.Title);
                throw new OrderingUnavailableException(problem.Message("Ordering"), status: problem.Status);
            }

            return await response.Content.ReadFromJsonAsync<OrderDetails>(Json, cancellationToken);
        }
        catch (Exception exception) when (GatewayFailures.IsNoAnswer(exception))
        {
            LogUnavailable(logger, exception);
            throw new OrderingUnavailableException(ApiProblem.NoAnswer.Message("Ordering"), exception);
        }
    }

    /// <summary>
    /// The waits between reads of a final order until its payments settle: soon at first (a cancelled charge that was
    /// never sent is settled within a second), then every 15 s, for about two minutes in all (a charge under way at the
    /// payment provider when the order was cancelled is settled when the provider answers).
    /// </summary>
    public static readonly IReadOnlyList<TimeSpan> SettlementWaits =
        [.. new[] { 1, 2, 4, 8, 15, 15, 15, 15, 15, 15 }.Select(seconds => TimeSpan.FromSeconds(seconds))];

    /// <summary>
    /// Reads the composed order now and after each of <paramref name="waits"/> (<see cref="SettlementWaits"/> by
    /// default) until it is final with its payments settled (<see cref="OrderDetails.PaymentsSettled"/>), handing every
    /// read to <paramref name="show"/>. A read that fails is tried again after the next wait.
    /// </summary>
    public async Task FollowUntilPaymentsSettleAsync(
        Guid orderId, Func<OrderDetails, Task> show, IEnumerable<TimeSpan>? waits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(show);

        foreach (var wait in (waits ?? SettlementWaits).Prepend(TimeSpan.Zero))
        {
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            OrderDetails? details;
            try
            {
                details = await GetOrderDetailsAsync(orderId, cancellationToken);
            }
            catch (OrderingUnavailableException)
            {
                continue;
            }

            if (details is null)
            {
                return;
            }

            await show(details);
            if (details.Order.Status.IsFinal() && details.PaymentsSettled)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The composed order could not be read through the gateway")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The gateway refused to compose an order ({Status}): {Title}")]
    private static partial void LogRefused(ILogger logger, int status, string? title);
}
