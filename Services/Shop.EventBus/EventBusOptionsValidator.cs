using Microsoft.Extensions.Options;

namespace Shop.EventBus;

/// <summary>Checks the settings when the host starts, naming each bad key and the range it must be in.</summary>
internal sealed class EventBusOptionsValidator : IValidateOptions<EventBusOptions>
{
    // librdkafka drops a consumer from its group when it does not poll for max.poll.interval.ms (5 minutes by
    // default); handler retries happen between polls, so their delays must stay well inside that.
    private static readonly TimeSpan MaxTotalRetryDelay = TimeSpan.FromMinutes(4);

    public ValidateOptionsResult Validate(string? name, EventBusOptions options)
    {
        var failures = new List<string>();
        const string Section = EventBusOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.GroupId))
        {
            failures.Add($"{Section}:GroupId must be set: it is the consumer group the replicas of this service share.");
        }

        foreach (var (key, value) in new[] { ("GroupId", options.GroupId), ("TopicPrefix", options.TopicPrefix) })
        {
            if (!string.IsNullOrEmpty(value) && !TopicNames.IsValidPart(value))
            {
                failures.Add($"{Section}:{key} '{value}' may only contain letters, digits, '.', '_' and '-'.");
            }
        }

        if (TopicNames.IsValidPart(options.GroupId) && !TopicNames.IsValid(options.DeadLetterTopic))
        {
            failures.Add($"{Section}:TopicPrefix and GroupId make the dead-letter topic '{options.DeadLetterTopic}', longer than Kafka's {TopicNames.MaxLength} characters.");
        }

        Range(failures, "TopicPartitions", options.TopicPartitions, 1, 10_000);
        if (options.TopicReplicationFactor is 0 or < -1)
        {
            failures.Add($"{Section}:TopicReplicationFactor must be -1 (the cluster's default) or at least 1; it is {options.TopicReplicationFactor}.");
        }

        Range(failures, "RelayBatchSize", options.RelayBatchSize, 1, 10_000);
        Range(failures, "MaxDeliveryAttempts", options.MaxDeliveryAttempts, 1, 100);
        Range(failures, "MaxConcurrency", options.MaxConcurrency, 1, 64);
        foreach (var (topic, limit) in options.TopicConcurrency ?? [])
        {
            if (!TopicNames.IsValid(topic))
            {
                failures.Add($"{Section}:TopicConcurrency names '{topic}', which is not a topic name (letters, digits, '.', '_' and '-').");
            }

            Range(failures, $"TopicConcurrency:{topic}", limit, 1, options.MaxConcurrency);
        }

        Range(failures, "MaxBatchSize", options.MaxBatchSize, 1, ConsumerAssignment.MaxQueued);
        Positive(failures, "RelayPollInterval", options.RelayPollInterval);
        Positive(failures, "RelayRetryDelay", options.RelayRetryDelay);
        Positive(failures, "RetryDelay", options.RetryDelay);
        Positive(failures, "Retention", options.Retention);
        Positive(failures, "CleanupInterval", options.CleanupInterval);
        AtLeast(failures, "RelayMaxRetryDelay", options.RelayMaxRetryDelay, "RelayRetryDelay", options.RelayRetryDelay);
        AtLeast(failures, "MaxRetryDelay", options.MaxRetryDelay, "RetryDelay", options.RetryDelay);

        if (options.MaxDeliveryAttempts is >= 1 and <= 100 && options.RetryDelay > TimeSpan.Zero && options.MaxRetryDelay >= options.RetryDelay)
        {
            var total = Backoff.Total(options.MaxDeliveryAttempts, options.RetryDelay, options.MaxRetryDelay);
            if (total > MaxTotalRetryDelay)
            {
                failures.Add(
                    $"{Section}: MaxDeliveryAttempts ({options.MaxDeliveryAttempts}) with RetryDelay {options.RetryDelay} and MaxRetryDelay " +
                    $"{options.MaxRetryDelay} wait {total.TotalSeconds:0} s between attempts; keep it under {MaxTotalRetryDelay.TotalSeconds:0} s " +
                    "so the consumer stays in its group (librdkafka's max.poll.interval.ms).");
            }
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add($"{Section}: JsonSerializerOptions must not be null.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{EventBusOptions.SectionName}:{key} must be between {min} and {max}; it is {value}.");
        }
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{EventBusOptions.SectionName}:{key} must be positive; it is {value}.");
        }
    }

    private static void AtLeast(List<string> failures, string key, TimeSpan value, string otherKey, TimeSpan other)
    {
        if (value < other)
        {
            failures.Add($"{EventBusOptions.SectionName}:{key} ({value}) must not be shorter than {otherKey} ({other}).");
        }
    }
}
