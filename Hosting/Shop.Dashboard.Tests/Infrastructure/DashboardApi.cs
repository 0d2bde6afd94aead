using System.Net.Http.Json;
using System.Text.Json;
using Shop.Dashboard.Apis;

namespace Shop.Dashboard.Tests.Infrastructure;

/// <summary>Typed calls to the dashboard's JSON API (the same DTOs the dashboard serializes).</summary>
public static class DashboardApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task<LogListDto?> LogsAsync(this HttpClient client, string query, CancellationToken cancellationToken) =>
        client.GetFromJsonAsync<LogListDto>($"/api/telemetry/logs?{query}", Json, cancellationToken);

    public static Task<TraceListDto?> TracesAsync(this HttpClient client, string query, CancellationToken cancellationToken) =>
        client.GetFromJsonAsync<TraceListDto>($"/api/telemetry/traces?{query}", Json, cancellationToken);

    public static Task<TraceDto?> TraceAsync(this HttpClient client, string traceId, CancellationToken cancellationToken) =>
        client.GetFromJsonAsync<TraceDto>($"/api/telemetry/traces/{traceId}", Json, cancellationToken);

    public static Task<MetricInstrumentDto[]?> MetricsAsync(this HttpClient client, string query, CancellationToken cancellationToken) =>
        client.GetFromJsonAsync<MetricInstrumentDto[]>($"/api/telemetry/metrics?{query}", Json, cancellationToken);

    public static Task<TelemetryResourceDto[]?> ResourcesAsync(this HttpClient client, CancellationToken cancellationToken) =>
        client.GetFromJsonAsync<TelemetryResourceDto[]>("/api/telemetry/resources", Json, cancellationToken);
}
