using Microsoft.Extensions.Configuration;

namespace Shop.Hosting.Orchestration;

/// <summary>The AppHost settings the orchestrator uses, read and checked when the app is built, before anything starts.</summary>
internal sealed record OrchestrationSettings(TimeSpan ResourceStopTimeout, bool RandomizePorts)
{
    /// <summary>Task.Delay's limit is about 49 days; a day is far beyond any graceful stop.</summary>
    private const double MaxStopTimeoutSeconds = 86_400;

    public static OrchestrationSettings Read(IConfiguration configuration)
    {
        var stopTimeout = configuration.GetSetting(KnownConfigNames.ResourceStopTimeout, 5.0);
        if (stopTimeout is not (> 0 and <= MaxStopTimeoutSeconds))
        {
            throw new DistributedApplicationException(
                $"{KnownConfigNames.ResourceStopTimeout} is {configuration[KnownConfigNames.ResourceStopTimeout]}: it must be a number of seconds above 0 and at most {MaxStopTimeoutSeconds}.");
        }

        return new(TimeSpan.FromSeconds(stopTimeout), configuration.GetSetting(KnownConfigNames.RandomizePorts, false));
    }
}
