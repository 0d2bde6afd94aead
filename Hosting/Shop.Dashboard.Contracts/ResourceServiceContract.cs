using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shop.Dashboard.Contracts;

/// <summary>
/// The resource service is hosted by the AppHost (HTTP/JSON on loopback) and read by the dashboard.
/// Every request carries <see cref="ResourceServiceProtocol.ApiKeyHeader"/>.
/// </summary>
/// <remarks>
/// Routes (relative to the base URL handed to the dashboard in <c>Dashboard__ResourceServiceUrl</c>):
/// <list type="bullet">
/// <item><c>GET  api/v1/resources</c> → <see cref="ResourceSnapshot"/>[]</item>
/// <item><c>GET  api/v1/resources/watch</c> → server-sent events; each <c>data:</c> line is one
///   <see cref="ResourceSnapshot"/> (the current state of every resource first, then each change).</item>
/// <item><c>GET  api/v1/resources/{name}/console?follow=true</c> → server-sent events; each <c>data:</c> line is one
///   <see cref="ConsoleLogLine"/> (the buffered backlog first, then live lines while <c>follow</c> is true).</item>
/// <item><c>POST api/v1/resources/{name}/commands/{command}</c> (<see cref="ResourceCommands"/>) → 202 Accepted,
///   404 for an unknown resource, 409 when the command does not apply in the current state.</item>
/// </list>
/// </remarks>
public static class ResourceServiceProtocol
{
    public const string ApiKeyHeader = "x-resource-service-api-key";
    public const string UrlVariable = "Dashboard__ResourceServiceUrl";
    public const string ApiKeyVariable = "Dashboard__ResourceServiceApiKey";
}

public static class ResourceCommands
{
    public const string Start = "start";
    public const string Stop = "stop";
    public const string Restart = "restart";
}

/// <summary>Resource states as the orchestrator reports them.</summary>
public static class KnownResourceStates
{
    public const string NotStarted = "NotStarted";
    public const string Waiting = "Waiting";
    public const string Starting = "Starting";
    public const string Running = "Running";
    public const string Stopping = "Stopping";
    public const string Exited = "Exited";
    public const string FailedToStart = "FailedToStart";
    public const string Finished = "Finished";
}

/// <summary>One running instance of a resource (a replica is its own instance).</summary>
/// <param name="Name">Unique instance name: the resource name, or <c>{resource}-{index}</c> for replicas.</param>
/// <param name="DisplayName">The resource name as written in the AppHost.</param>
/// <param name="ResourceType">Project, Executable, Postgres, PostgresDatabase, Redis, Kafka, Parameter, ConnectionString…</param>
/// <param name="State">One of <see cref="KnownResourceStates"/>.</param>
/// <param name="HealthStatus">Healthy, Unhealthy, or null while health is not known.</param>
public sealed record ResourceSnapshot(
    string Name,
    string DisplayName,
    string ResourceType,
    string State,
    string? HealthStatus,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    int? ExitCode,
    int? ProcessId,
    IReadOnlyList<ResourceEndpoint> Endpoints,
    IReadOnlyList<ResourceEnvironmentVariable> Environment,
    IReadOnlyList<string> References,
    IReadOnlyList<string> Commands);

public sealed record ResourceEndpoint(string Name, string Url, bool IsExternal);

/// <summary>An environment variable; the dashboard masks the value when <paramref name="IsSecret"/> is set.</summary>
public sealed record ResourceEnvironmentVariable(string Name, string? Value, bool IsSecret);

public sealed record ConsoleLogLine(long LineNumber, DateTimeOffset Timestamp, string Text, bool IsStdErr);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ResourceSnapshot))]
[JsonSerializable(typeof(ResourceSnapshot[]))]
[JsonSerializable(typeof(ConsoleLogLine))]
public sealed partial class ResourceServiceJsonContext : JsonSerializerContext;
