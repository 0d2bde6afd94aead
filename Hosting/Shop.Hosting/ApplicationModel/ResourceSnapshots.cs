using System.Collections.Immutable;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Shop.Hosting.ApplicationModel;

/// <summary>Resource states, as Aspire names them.</summary>
public static class KnownResourceStates
{
    public const string NotStarted = Shop.Dashboard.Contracts.KnownResourceStates.NotStarted;
    public const string Waiting = Shop.Dashboard.Contracts.KnownResourceStates.Waiting;
    public const string Starting = Shop.Dashboard.Contracts.KnownResourceStates.Starting;
    public const string Running = Shop.Dashboard.Contracts.KnownResourceStates.Running;
    public const string Stopping = Shop.Dashboard.Contracts.KnownResourceStates.Stopping;
    public const string Exited = Shop.Dashboard.Contracts.KnownResourceStates.Exited;
    public const string FailedToStart = Shop.Dashboard.Contracts.KnownResourceStates.FailedToStart;
    public const string Finished = Shop.Dashboard.Contracts.KnownResourceStates.Finished;

    /// <summary>States from which a resource does not move on by itself.</summary>
    public static bool IsTerminal(string state) => state is Exited or FailedToStart or Finished;
}

/// <summary>What is known about one instance of a resource at one moment.</summary>
public sealed record CustomResourceSnapshot
{
    public required string ResourceType { get; init; }

    public string State { get; init; } = KnownResourceStates.NotStarted;

    /// <summary>Why the resource is in its state (the failure of a start, the dependency it waits for).</summary>
    public string? StateDescription { get; init; }

    /// <summary>Null until health is known; a resource without health checks is healthy once running.</summary>
    public HealthStatus? HealthStatus { get; init; }

    public string? HealthDescription { get; init; }

    public DateTimeOffset? StartTimeStamp { get; init; }

    public DateTimeOffset? StopTimeStamp { get; init; }

    public int? ExitCode { get; init; }

    public int? ProcessId { get; init; }

    public ImmutableArray<UrlSnapshot> Urls { get; init; } = [];

    public ImmutableArray<EnvironmentVariableSnapshot> EnvironmentVariables { get; init; } = [];

    /// <summary>Names of the resources this one references or waits for.</summary>
    public ImmutableArray<string> References { get; init; } = [];
}

public sealed record UrlSnapshot(string Name, string Url, bool IsExternal);

public sealed record EnvironmentVariableSnapshot(string Name, string? Value, bool IsSecret);

/// <summary>A change of one resource instance.</summary>
/// <param name="ResourceId">The instance: the resource name, or <c>{name}-{replica}</c> when replicated.</param>
public sealed record ResourceEvent(IResource Resource, string ResourceId, CustomResourceSnapshot Snapshot);
