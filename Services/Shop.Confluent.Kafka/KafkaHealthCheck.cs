using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shop.Confluent.Kafka;

/// <summary>
/// Asks the cluster for its metadata over the client's own connections (a dependent admin client on the
/// producer's or consumer's handle): healthy only if a broker answers within the timeout.
/// </summary>
public sealed class KafkaHealthCheck(Func<Handle> handle, TimeSpan timeout) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var metadata = await Task.Run(() =>
            {
                using var admin = new DependentAdminClientBuilder(handle()).Build();
                return admin.GetMetadata(timeout);
            }, cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s), {metadata.Topics.Count} topic(s)")
                : HealthCheckResult.Unhealthy("The cluster reported no brokers.");
        }
        catch (KafkaException ex)
        {
            // Without the exception, which says no more than its code and reason: ASP.NET Core's health-check service
            // logs every failed probe, and during an outage that would be a stack trace per client every few seconds.
            return new HealthCheckResult(context.Registration.FailureStatus, $"Metadata request failed: {ex.Error.Reason} ({ex.Error.Code})");
        }
    }
}
